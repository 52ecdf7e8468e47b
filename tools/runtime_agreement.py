"""Do two embedded runtimes tell a user the same thing on real clips?

``python -m tools.runtime_agreement [--model micro-cnn] [--runtimes tflite,int8] CLIP...``
runs each clip through the gateway's Pipeline in this process (embedded backend, the same
detector and tracker) once per runtime, at 0.5 s sampling and on every frame, and prints per
clip: the frames whose label differs, the largest probability difference, and each runtime's
dominant label and label counts. A check for a new runtime or companion (README "int8 on the
CPU"), not a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import io
from pathlib import Path

from model_artifact import ModelRepository
from service.backends.embedded import EmbeddedBackend
from service.faces import FaceDetector
from service.media import MediaLimits
from service.metrics import Metrics
from service.pipeline import Pipeline, PredictOptions
from service.schemas import PredictResponse
from service.settings import Settings


def compare(a: PredictResponse, b: PredictResponse) -> tuple[list[int], float]:
    """Positions of frames labelled differently, and the largest probability difference."""
    pairs = list(zip(a.frames, b.frames, strict=True))
    differ = [i for i, (x, y) in enumerate(pairs) if x.label != y.label]
    gap = max(
        (
            abs(x.probabilities[c] - y.probabilities[c])
            for x, y in pairs
            if x.probabilities and y.probabilities
            for c in x.probabilities
        ),
        default=0.0,
    )
    return differ, gap


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clips", nargs="+", type=Path)
    p.add_argument("--repository", default="model_repository")
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--version", type=int)
    p.add_argument("--runtimes", default="tflite,int8")
    args = p.parse_args(argv)
    first, second = args.runtimes.split(",")
    model = ModelRepository(args.repository).load(args.model, args.version)
    loop = asyncio.new_event_loop()
    pipelines = {}
    for runtime in (first, second):
        backend = EmbeddedBackend(Settings(embedded_runtime=runtime))
        loop.run_until_complete(backend.start([model]))
        limits = MediaLimits(max_frames=10**6)
        pipelines[runtime] = Pipeline(backend, FaceDetector(), limits, Metrics())
    print(f"{model.name} v{model.version}: {first} against {second}")
    for clip in args.clips:
        data = clip.read_bytes()
        for interval in (0.5, 0.0):
            options = PredictOptions(sample_interval=interval, max_frames=10**6)
            a, b = (
                loop.run_until_complete(pipelines[r].run(io.BytesIO(data), model, options))
                for r in (first, second)
            )
            differ, gap = compare(a, b)
            print(
                f"{clip.name}@{interval:g}: {len(a.frames)} frames, labels differ on "
                f"{len(differ)}, max |dp| {gap:.3f}; dominant {a.summary.dominant_label} / "
                f"{b.summary.dominant_label}; {first} {dict(a.summary.label_counts)}, "
                f"{second} {dict(b.summary.label_counts)}"
            )
    loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
