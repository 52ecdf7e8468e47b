"""The ``mmed`` CLI against the real gateway (uvicorn on a socket): every output mode, and the
files it writes checked by decoding them."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from cli_helpers import VIDEO_FPS, VIDEO_SIZE, Server
from mmed_client.models import PredictResponse
from PIL import Image

from mmed_cli.__main__ import main
from mmed_cli.plot import plot_size
from tools.facevideo import encode_video

MICRO = ["anger", "contempt", "disgust", "happiness", "sadness"]


def run(capsys: pytest.CaptureFixture[str], server: Server, *args: str) -> tuple[int, str, str]:
    """``mmed <args> --server URL --api-key KEY`` in process; (exit code, stdout, stderr)."""
    command, *rest = args
    code = main([command, "--server", server.url, "--api-key", server.api_key, *rest])
    out, err = capsys.readouterr()
    return code, out, err


def predict_json(capsys, server: Server, *args: str) -> list[dict]:
    code, out, err = run(capsys, server, "predict", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_table_by_default_with_progress_bar(capsys, server: Server, face_video, face_image) -> None:
    code, out, err = run(capsys, server, "predict", str(face_video), str(face_image))
    assert code == 0, err
    header, video_row, image_row = out.strip().splitlines()
    assert header.split() == ["FILE", "KIND", "FRAMES", "FACES", "DOMINANT", "MEAN_P", "MODEL"]
    video = video_row.split()
    assert video[:3] == [str(face_video), "video", "6"]
    assert int(video[3]) >= 5 and video[4] in MICRO and video[-2:] == ["micro-cnn", "v1"]
    image = image_row.split()
    assert image[:4] == [str(face_image), "image", "1", "1"] and image[4] in MICRO
    assert "2/2" in err  # tqdm's bar for several files, on stderr


def test_frames_table_lists_every_sampled_frame(capsys, server: Server, face_video) -> None:
    code, out, err = run(capsys, server, "predict", str(face_video), "--frames")
    assert code == 0, err
    lines = out.strip().splitlines()
    [start] = [i for i, line in enumerate(lines) if line.startswith("FRAME ")]
    assert lines[start].split() == ["FRAME", "TIME_S", "LABEL", "CONF", "FACE", "FACE_SCORE"]
    rows = [line.split() for line in lines[start + 1 :]]
    assert all(r[2] in MICRO and len(r) == 7 for r in rows)  # FACE is "x,y wxh"
    assert [int(r[0]) for r in rows] == [0, 8, 15, 23, 30, 38]
    assert "%" not in err  # one file: no progress bar


def test_json_is_the_typed_result(capsys, server: Server, face_video, face_image) -> None:
    items = predict_json(capsys, server, str(face_video), str(face_image), "--task", "masked")
    assert [item["file"] for item in items] == [str(face_video), str(face_image)]
    results = [PredictResponse.from_dict(item["result"]) for item in items]
    assert [r.media.kind for r in results] == ["video", "image"]
    for r in results:
        assert r.model.name == "masked-cnn"
        assert len(r.frames) == r.media.frames_sampled
        for f in r.frames:
            if f.probabilities is not None:
                assert sum(f.probabilities.additional_properties.values()) == pytest.approx(1, 1e-3)


def test_csv_has_one_row_per_sampled_frame(capsys, server: Server, face_video, face_image) -> None:
    args = [str(face_video), str(face_image), "--sample-interval", "0.25"]
    expected = {i["file"]: i["result"] for i in predict_json(capsys, server, *args)}
    code, out, err = run(capsys, server, "predict", "--csv", *args)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows, out
    assert [k for k in rows[0] if k.startswith("p_")] == [f"p_{c}" for c in MICRO]
    for name, result in expected.items():
        mine = [r for r in rows if r["file"] == name]
        assert len(mine) == result["media"]["frames_sampled"] == len(result["frames"])
        assert [int(r["frame_index"]) for r in mine] == [f["index"] for f in result["frames"]]
    assert len(rows) == 12 + 1  # 3 s every 0.25 s, and one image
    for r in rows:
        if r["label"]:
            probs = {c: float(r[f"p_{c}"]) for c in MICRO}
            assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-3)
            assert r["label"] == max(probs, key=probs.get)
            assert int(r["face_w"]) > 0 and 0 <= float(r["face_score"]) <= 1


@pytest.mark.parametrize("files", [1, 2])
def test_plot_png_decodes_with_expected_size(
    capsys, server: Server, face_video, face_image, tmp_path: Path, files: int
) -> None:
    out_png = tmp_path / "timeline.png"
    inputs = [str(face_video), str(face_image)][:files]
    code, _, err = run(capsys, server, "predict", *inputs, "--plot", str(out_png), "-q")
    assert code == 0, err
    with Image.open(out_png) as im:
        assert im.format == "PNG"
        im.verify()
    with Image.open(out_png) as im:
        pixels = np.asarray(im.convert("RGB"))
    assert (pixels.shape[1], pixels.shape[0]) == plot_size(files) == (1000, 300 * files)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # lines, shading, text


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_annotated_video_has_the_sampled_frames(
    capsys, server: Server, face_video, tmp_path: Path
) -> None:
    out_mp4 = tmp_path / "annotated.mp4"
    args = [str(face_video), "--sample-interval", "0.25", "--annotate", str(out_mp4)]
    [item] = predict_json(capsys, server, *args)
    result = PredictResponse.from_dict(item["result"])
    frames = decode(out_mp4)
    assert len(frames) == result.media.frames_sampled == 12
    assert frames[0].shape == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)
    assert_boxes_drawn(frames, result)


def assert_boxes_drawn(frames: list[np.ndarray], result: PredictResponse) -> None:
    """The face box is drawn in green: along each box's bottom edge green dominates."""
    for image, frame in zip(frames, result.frames, strict=True):
        face = frame.face
        assert face is not None
        edge = image[face.y + face.h - 1 : face.y + face.h + 1, face.x + 4 : face.x + face.w - 4]
        r, g, b = edge.reshape(-1, 3).mean(axis=0)
        assert g > r + 40 and g > b + 40, (frame.index, r, g, b)


def test_annotated_phone_clip_is_drawn_upright(
    capsys, server: Server, face_video, tmp_path: Path
) -> None:
    # Stored as a phone stores a portrait clip (frames on their side, a matrix turning them
    # back): the boxes are in the upright frame, and so is the annotated video.
    phone = tmp_path / "phone.mp4"
    sideways = [np.ascontiguousarray(np.rot90(f, 1)) for f in decode(face_video)]
    phone.write_bytes(encode_video(sideways, VIDEO_FPS, display=(-90, False, False)))
    out_mp4 = tmp_path / "annotated.mp4"
    args = [str(phone), "--sample-interval", "0.25", "--annotate", str(out_mp4)]
    [item] = predict_json(capsys, server, *args)
    result = PredictResponse.from_dict(item["result"])
    assert (result.media.width, result.media.height) == VIDEO_SIZE
    frames = decode(out_mp4)
    assert frames[0].shape == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)
    assert_boxes_drawn(frames, result)


def test_annotate_several_files_names_each_output(
    capsys, server: Server, face_video, face_image, tmp_path: Path
) -> None:
    out = tmp_path / "out.mp4"
    code, _, err = run(
        capsys, server, "predict", str(face_video), str(face_image), "--annotate", str(out)
    )
    assert code == 0, err
    # Both inputs are named "astronaut": the second output gets a suffix.
    assert len(decode(tmp_path / "out-astronaut.mp4")) == 6
    image_frames = decode(tmp_path / "out-astronaut-2.mp4")
    assert len(image_frames) == 1 and image_frames[0].shape == (512, 512, 3)


def test_models_table_and_json(capsys, server: Server) -> None:
    code, out, err = run(capsys, server, "models")
    assert code == 0, err
    rows = [line.split() for line in out.strip().splitlines()]
    assert rows[0][:3] == ["NAME", "TASK", "ARCH"]
    assert {r[0]: r[1] for r in rows[1:]} == {"masked-cnn": "masked", "micro-cnn": "micro"}
    code, out, err = run(capsys, server, "models", "--json")
    assert code == 0, err
    assert sorted(m["name"] for m in json.loads(out)["models"]) == ["masked-cnn", "micro-cnn"]


def test_problems_are_reported_per_file(capsys, server: Server, face_image, not_media) -> None:
    code, out, err = run(capsys, server, "predict", "--json", str(not_media), str(face_image))
    assert code == 1
    bad, good = json.loads(out)
    assert bad["problem"]["status"] == 415 and bad["problem"]["title"]
    assert good["result"]["media"]["kind"] == "image"
    assert f"{not_media}: 415" in err


def test_wrong_api_key_is_401(capsys, server: Server, face_image) -> None:
    code = main(["predict", str(face_image), "--server", server.url, "--api-key", "nope"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "401 Unauthorized" in err and "error" in out
    assert main(["models", "--server", server.url, "--api-key", "nope"]) == 1
    assert "401" in capsys.readouterr().err


def test_unreachable_server(capsys, face_image, tmp_path: Path) -> None:
    code = main(["predict", str(face_image), "--server", "http://127.0.0.1:9", "-q"])
    assert code == 1
    assert "cannot reach the server" in capsys.readouterr().err


def test_console_script_with_env_settings(server: Server, face_image) -> None:
    script = Path(sys.executable).with_name("mmed")
    assert script.exists(), "the `mmed` console script is not installed: run `make install`"
    env = {**os.environ, "MMED_SERVER": server.url, "MMED_API_KEY": server.api_key}
    done = subprocess.run(
        [str(script), "predict", str(face_image), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)
    assert item["result"]["frames"][0]["face"] is not None


@pytest.mark.parametrize("suffix", [".mkv", ".webm", ".avi"])
def test_annotate_container_by_suffix(capsys, server: Server, face_image, tmp_path, suffix) -> None:
    out = tmp_path / f"annotated{suffix}"
    code, _, err = run(capsys, server, "predict", str(face_image), "--annotate", str(out))
    assert code == 0, err
    [frame] = decode(out)
    assert frame.shape == (512, 512, 3)


@pytest.mark.parametrize(
    ("option", "name"), [("--annotate", "a.gif"), ("--plot", "a.svg")], ids=["video", "plot"]
)
def test_output_suffix_is_checked_before_sending(capsys, face_image, tmp_path, option, name):
    with pytest.raises(SystemExit) as exited:
        main(["predict", str(face_image), option, str(tmp_path / name), "--server", "http://x"])
    assert exited.value.code == 2
    assert option in capsys.readouterr().err
