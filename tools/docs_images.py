"""Draw the README's CLI picture (``make docs-images``): a real face video is generated (the
astronaut photo, moving), the gateway is started on the shipped models, and ``mmed predict
--plot`` draws the timeline into ``docs/images/``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.facevideo import write_face_video
from tools.local_server import ROOT, local_server

OUT = ROOT / "docs" / "images" / "mmed-predict-plot.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the face video")
    parser.add_argument("--sample-interval", default="0.25")
    parser.add_argument("--task", default="masked", choices=["micro", "masked"])
    args = parser.parse_args(argv)
    if not any(args.repository.glob(f"{args.task}-*/*/saved_model.pb")):
        print(f"no {args.task} model in {args.repository}: run `make models`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        video = write_face_video(Path(tmp) / "astronaut.mp4", seconds=args.seconds)
        with local_server(args.repository, log=Path(tmp) / "uvicorn.log") as server:
            cmd = [sys.executable, "-m", "mmed_cli", "predict", video.name]
            cmd += ["--server", server.url]
            cmd += ["--task", args.task, "--sample-interval", args.sample_interval]
            cmd += ["--plot", str(args.out)]
            print(f"$ mmed predict astronaut.mp4 --task {args.task} --sample-interval ...")
            done = subprocess.run(cmd, cwd=tmp, check=False)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
