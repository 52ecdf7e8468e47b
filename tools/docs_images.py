"""The README's examples, reproduced (``make docs-images``): the example media are written to
``build/docs/`` (scikit-image's astronaut photo as ``astronaut.jpg``, the 6 s clip of it as
``astronaut.mp4``), the gateway is started on the shipped models, every command the README
shows is run against it, the plot is drawn into ``docs/images/`` and the outputs are written to
``build/docs/transcripts.md`` to paste into the README."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from PIL import Image

from tools.facevideo import face_photo, write_face_video
from tools.local_server import ROOT, local_server

OUT = ROOT / "docs" / "images" / "mmed-predict-plot.png"
REVIEW_PNG = ROOT / "docs" / "images" / "ui-review.png"
REVIEW_CLIP = ROOT / ".." / "shared" / "data" / "video" / "WolfgangLanger_Pexels.mp4"
MEDIA = ROOT / "build" / "docs"
CLIENT_EXAMPLE = """\
from mmed_client import Client, types
from mmed_client.api.predict import predict_v1_predict_post as predict
from mmed_client.models import BodyPredictV1PredictPost as Body
result = predict.sync(client=Client("{url}"),
                      body=Body(types.File(open("astronaut.mp4", "rb"), "astronaut.mp4")))
print(result.summary.dominant_label, [(f.timestamp_s, f.label) for f in result.frames])
"""


def write_media(media: Path, seconds: float) -> tuple[Path, Path]:
    """``astronaut.jpg`` (the photo, Pillow's default JPEG) and ``astronaut.mp4`` in ``media``."""
    media.mkdir(parents=True, exist_ok=True)
    image = media / "astronaut.jpg"
    Image.fromarray(face_photo()).save(image, format="JPEG")
    return image, write_face_video(media / "astronaut.mp4", seconds=seconds)


def review_screenshot(url: str, video: Path, out: Path) -> None:
    """The review page (``/ui``) at 1280x800 after analysing ``video`` every frame, paused at
    40 % of the clip with its face box shown."""
    from tools import ui_browser

    with ui_browser.browser() as chromium:
        page = ui_browser.new_tab(chromium).page
        page.goto(f"{url}/ui")
        ui_browser.enter_key(page, None)
        ui_browser.analyse(page, video, timeout_s=1800)
        box = page.locator("#timeline").bounding_box()
        page.mouse.click(box["x"] + 34 + 0.4 * (box["width"] - 44), box["y"] + 60)
        # Seeked and the frame decoded, so that the player's loading spinner has gone.
        page.wait_for_function(
            "() => { const v = document.getElementById('video'); "
            "return !v.seeking && v.readyState >= 3; }"
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    parser.add_argument("--out", type=Path, default=OUT, help="the plot (PNG)")
    parser.add_argument("--media", type=Path, default=MEDIA, help="example media, transcripts")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the face video")
    args = parser.parse_args(argv)
    if not any(args.repository.glob("masked-*/*/saved_model.pb")):
        print(f"no masked model in {args.repository}: run `make models`", file=sys.stderr)
        return 1
    media, plot = args.media.resolve(), args.out.resolve()
    image, _ = write_media(media, args.seconds)
    shown_plot = os.path.relpath(plot, ROOT)
    commands = [
        "mmed models",
        "mmed predict astronaut.mp4 astronaut.jpg",
        "mmed predict astronaut.mp4 --csv | head -4",
        f"mmed predict astronaut.mp4 --task masked --sample-interval 0.25 --plot {shown_plot}"
        " --annotate annotated.mp4",
    ]
    parts: list[str] = []
    jobs = tempfile.TemporaryDirectory(prefix="mmed-docs-jobs-")  # the review page's job
    with (
        jobs,
        local_server(
            args.repository, log=media / "uvicorn.log", env={"MMED_JOBS_DIR": jobs.name}
        ) as server,
    ):
        env = {**os.environ, "MMED_SERVER": server.url, "PYTHONPATH": str(ROOT)}
        answer = httpx.post(
            f"{server.url}/v1/predict",
            params={"task": "micro"},
            files={"file": (image.name, image.read_bytes())},
            timeout=120,
        )
        answer.raise_for_status()
        parts.append("## curl (image)\n\n```json\n" + json.dumps(answer.json(), indent=4) + "\n```")
        client = subprocess.run(
            [sys.executable, "-c", CLIENT_EXAMPLE.format(url=server.url)],
            cwd=media, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        parts.append(f"## Python client\n\n```text\n{client.stdout.strip()}\n```")
        lines = []
        for command in commands:
            shell = command.replace(shown_plot, str(plot)).replace("mmed ", "mmed_cli ", 1)
            shell = f"{shlex.quote(sys.executable)} -m {shell}"
            done = subprocess.run(
                shell, shell=True, cwd=media, env=env, capture_output=True, text=True, check=False
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{command} failed:\n{done.stderr}", file=sys.stderr)
                return done.returncode
            shown = done.stdout.rstrip() + "".join(
                f"\n{line}" for line in done.stderr.splitlines() if line.startswith("mmed:")
            )
            lines.append(f"$ {command}\n{shown.replace(str(plot), shown_plot)}")
        parts.append("## mmed\n\n```text\n" + "\n\n".join(lines) + "\n```")
        from tools.ui_browser import unavailable

        clip = REVIEW_CLIP if REVIEW_CLIP.is_file() else media / "astronaut.mp4"
        if reason := unavailable():
            print(f"{os.path.relpath(REVIEW_PNG, ROOT)} kept as it was: {reason}", file=sys.stderr)
        else:
            review_screenshot(server.url, clip, REVIEW_PNG)
    transcripts = media / "transcripts.md"
    transcripts.write_text("\n\n".join(parts) + "\n")
    print(f"wrote {shown_plot}, {os.path.relpath(transcripts, ROOT)} and the media beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
