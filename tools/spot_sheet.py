"""A contact sheet of spotted events, to check them by eye: ``python -m tools.spot_sheet OUT.jpg
VIDEO [VIDEO ...] [--model micro-cnn] [--params FILE]``.

The video runs through the service pipeline on every frame with the spotter (as
``/v1/predict?sample_interval=0`` does); for each event a row shows the face 0.5 s before the
onset (the resting face), at the onset, the apex and the offset, each crop captioned with its
frame index and the event's label, kind and evidence. Also prints the events.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np

if TYPE_CHECKING:
    from service.schemas import PredictResponse

CELL = 160


def frames_at(video: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """Grey frames of ``video`` at the decoded-stream indices in ``wanted``."""
    out = {}
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                out[i] = frame.to_ndarray(format="gray")
            if i > max(wanted, default=-1):
                break
    return out


def rows_of(video: Path, response: PredictResponse) -> list[np.ndarray]:
    """One image row per event of ``response``: the face 0.5 s before, onset, apex, offset."""
    boxes = {f.index: f.face for f in response.frames if f.face is not None}
    fps = response.media.fps or 30.0
    rows = []
    wanted = set()
    for e in response.events or []:
        before = max(0, e.onset_index - round(0.5 * fps))
        picks = [before, e.onset_index, e.apex_index, e.offset_index]
        rows.append((e, picks))
        wanted.update(picks)
    grey = frames_at(video, wanted)
    images = []
    for e, picks in rows:
        cells = []
        for name, i in zip(("rest -0.5 s", "onset", "apex", "offset"), picks, strict=True):
            face = boxes.get(i)
            img = grey.get(i)
            crop: np.ndarray
            if img is None:
                crop = np.zeros((CELL, CELL), np.uint8)
            elif face is None:
                crop = cv2.resize(img, (CELL, CELL))
            else:
                pad = round(0.15 * face.w)
                y0, x0 = max(0, face.y - pad), max(0, face.x - pad)
                crop = img[y0 : face.y + face.h + pad, x0 : face.x + face.w + pad]
                crop = cv2.resize(crop, (CELL, CELL), interpolation=cv2.INTER_AREA)
            cell = cv2.copyMakeBorder(crop, 18, 0, 0, 2, cv2.BORDER_CONSTANT, value=255)
            cv2.putText(cell, f"{name} #{i}", (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
            cells.append(cell)
        row = np.hstack(cells)
        ev = e.evidence
        caption = (
            f"{video.stem[:14]} {e.kind} {e.label} {e.onset_s:.2f}-{e.offset_s:.2f}s "
            f"conf {e.confidence:.2f} | "
            f"{ev.signal}/{ev.region} score {ev.score:.2f} dp {ev.probability_change:.2f} "
            f"base {ev.baseline_label}"
        )
        bar = np.full((18, row.shape[1]), 255, np.uint8)
        cv2.putText(bar, caption, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, 0, 1)
        images.append(np.vstack([bar, row]))
    return images


def sheet(rows: list[np.ndarray], out: Path) -> Path:
    """The rows stacked into one image at ``out`` (a note when there are none)."""
    images = list(rows)
    if not images:
        images = [np.full((40, 4 * (CELL + 2)), 255, np.uint8)]
        cv2.putText(images[0], "no event spotted", (5, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack(images))
    return out


async def run(
    videos: list[Path], out: Path, repository: Path, model: str, params: Path | None = None
) -> None:
    from service.spotting import Spotter
    from service.spotting.params import fitted_params
    from training.spot_eval import Runner

    rows = []
    async with Runner(repository, model) as runner:
        spotter = Spotter(fitted_params(model, params) if params else None)
        for video in videos:
            response = await runner.predict(video, spotter)
            for e in response.events or []:
                print(
                    f"{video.name} {e.kind:5s} {e.label:10s} frames {e.onset_index}-"
                    f"{e.apex_index}-{e.offset_index} ({e.onset_s:.2f}-{e.offset_s:.2f} s) "
                    f"conf {e.confidence:.2f} {e.evidence.signal}/{e.evidence.region} "
                    f"score {e.evidence.score:.2f}"
                )
            rows += rows_of(video, response)
    print(f"wrote {sheet(rows, out)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.spot_sheet", description=__doc__)
    p.add_argument("out", type=Path)
    p.add_argument("videos", type=Path, nargs="+")
    p.add_argument("--repository", type=Path, default=Path("model_repository"))
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--params", type=Path, help="a thresholds file (default: the service's)")
    args = p.parse_args(argv)
    asyncio.run(run(args.videos, args.out, args.repository, args.model, args.params))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
