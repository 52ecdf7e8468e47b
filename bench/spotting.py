"""What spotting adds to every-frame analysis: ``python -m bench.spotting [CLIP ...]``.

The in-process pipeline (embedded TensorFlow, the shipped micro model) analyses each clip on
every frame without and with the spotter (``Pipeline.run(..., analysis=Spotter())``), the two
alternating so both see the same background load; the figure is the ratio of the medians
(target: at most 1.20). Without clips it uses a generated 10 s 640x480 face video and, when
present, the real talking-head clip ../shared/data/video/WolfgangLanger_Pexels.mp4.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import time
from pathlib import Path

TARGET = 1.20
REAL_CLIP = (
    Path(__file__).resolve().parents[1] / ".." / "shared/data/video/WolfgangLanger_Pexels.mp4"
)


async def measure(clips: dict[str, bytes], repository: Path, model: str, repeats: int) -> dict:
    from model_artifact import ModelRepository
    from service.backends.embedded import EmbeddedBackend
    from service.faces import FaceDetector
    from service.media import MediaLimits
    from service.metrics import Metrics
    from service.pipeline import Pipeline, PredictOptions
    from service.spotting import Spotter

    version = ModelRepository(repository).load(model)
    backend = EmbeddedBackend()
    await backend.start([version])
    pipeline = Pipeline(backend, FaceDetector(), MediaLimits(max_frames=10**6), Metrics())
    options = PredictOptions(sample_interval=0, max_frames=10**6)
    out = {}
    try:
        for name, data in clips.items():
            await pipeline.run(io.BytesIO(data), version, options)  # warm-up
            plain, spotted, events, frames = [], [], None, 0
            for _ in range(repeats):
                for analysis, times in ((None, plain), (Spotter(), spotted)):
                    t0 = time.perf_counter()
                    r = await pipeline.run(io.BytesIO(data), version, options, analysis)
                    times.append(time.perf_counter() - t0)
                    if analysis is not None:
                        events, frames = len(r.events or []), r.media.frames_sampled
            ratio = statistics.median(spotted) / statistics.median(plain)
            out[name] = {
                "frames": frames,
                "plain_s": [round(t, 3) for t in plain],
                "spotting_s": [round(t, 3) for t in spotted],
                "ratio": round(ratio, 3),
                "events": events,
                "met": ratio <= TARGET,
            }
            print(f"{name}: {frames} frames, every frame {statistics.median(plain):.2f} s, "
                  f"with spotting {statistics.median(spotted):.2f} s: x{ratio:.3f} "
                  f"(target <= {TARGET}) {events} events", flush=True)  # fmt: skip
    finally:
        await backend.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.spotting", description=__doc__)
    p.add_argument("clips", nargs="*", type=Path)
    p.add_argument("--repository", type=Path, default=Path("model_repository"))
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, help="write the figures as JSON")
    args = p.parse_args(argv)
    if args.clips:
        clips = {c.name: c.read_bytes() for c in args.clips}
    else:
        from tools.facevideo import face_video

        clips = {"face-10s-480p (generated)": face_video(10.0, 30, 640, 480)}
        if REAL_CLIP.exists():
            clips[REAL_CLIP.name] = REAL_CLIP.read_bytes()
    result = asyncio.run(measure(clips, args.repository, args.model, args.repeats))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if all(r["met"] for r in result.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
