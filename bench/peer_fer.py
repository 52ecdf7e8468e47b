"""The peer, PyPI ``fer``, timed in its own venv (bench/.venv-fer): run by ``bench`` as
``.venv-fer/bin/python bench/peer_fer.py < job.json > result.json``. Standalone on purpose:
nothing from this project is importable there.

Job: {"clips": [{"name", "path", "frequency", "max_frames"?}], "repeats": int,
"agreement": [names]}. For each clip: seconds of ``Video(path).analyze(FER(), frequency=N)``
(with ``max_frames``: ``max_results=max_frames``, fer's own bound, so only the clip's first
``max_frames`` analysed frames are timed: frames/s is a rate) (fer's defaults: Haar
cascade + quantized TFLite mini-Xception; no MTCNN; no frames, video or zip written), and for
clips named in ``agreement`` the faces fer's detector finds on every N-th frame.
``cv2.waitKey`` and ``cv2.destroyAllWindows`` are replaced by no-ops: ``analyze`` calls
``waitKey`` on every frame, which headless OpenCV cannot do.
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from typing import Any

import cv2

cv2.waitKey = lambda *args, **kwargs: -1
cv2.destroyAllWindows = lambda *args, **kwargs: None

from fer.classes import Video  # noqa: E402
from fer.fer import FER  # noqa: E402


def analyse(
    detector: FER, path: str, frequency: int, workdir: str, max_results: int | None = None
) -> float:
    video = Video(path, outdir=os.path.join(workdir, "out"))
    t0 = time.perf_counter()
    video.analyze(
        detector,
        display=False,
        frequency=frequency,
        max_results=max_results,
        save_frames=False,
        save_video=False,
        annotate_frames=False,
        zip_images=False,
        output="pandas",
    )
    return time.perf_counter() - t0


def faces_found(detector: FER, path: str, frequency: int) -> list[list[list[int]]]:
    """Every face fer's detector finds on every N-th frame, in its order (``Video`` keeps the
    first one)."""
    cap = cv2.VideoCapture(path)
    boxes: list[list[list[int]]] = []
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % frequency == 0:
            faces = detector.find_faces(frame, bgr=True)
            boxes.append([[int(v) for v in face] for face in faces])
        index += 1
    cap.release()
    return boxes


def main() -> None:
    job = json.load(sys.stdin)
    t0 = time.perf_counter()
    detector = FER()  # fer's defaults
    startup = time.perf_counter() - t0
    out: dict[str, Any] = {"startup_s": startup, "clips": {}}
    with tempfile.TemporaryDirectory() as workdir:
        os.chdir(workdir)  # fer writes its outputs into the working directory
        for clip in job["clips"]:
            cap = cv2.VideoCapture(clip["path"])
            frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            cap.release()
            n = clip["frequency"]
            bound = clip.get("max_frames")
            analyse(detector, clip["path"], n, workdir, max_results=2)  # warm-up
            times = [
                analyse(detector, clip["path"], n, workdir, max_results=bound)
                for _ in range(job["repeats"])
            ]
            analysed = math.ceil(frames / n)
            entry = {
                "frequency": n,
                "frames": frames,
                "max_frames": bound,
                "analysed": analysed if bound is None else min(analysed, bound),
                "seconds": times,
                "median_s": statistics.median(times),
            }
            if clip["name"] in job.get("agreement", []):
                entry["faces"] = faces_found(detector, clip["path"], n)
            out["clips"][f"{clip['name']}@{n}"] = entry
            print(f"fer {clip['name']} every {n}: {entry['median_s']:.3f} s", file=sys.stderr)
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    versions = {}
    from importlib.metadata import version

    for pkg in ("fer", "tensorflow", "opencv-python-headless", "numpy", "pandas", "setuptools"):
        versions[pkg] = version(pkg)
    out["versions"] = versions
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
