"""What a version's int8 companion saves on this CPU: CPU per face of the float TFLite
conversion and of the companion, one thread, alternating rounds (training.quantize's own
measurement), and wall time per face at the gateway's thread count, beside whether the CPU
has 8-bit dot-product instructions (service/backends/cpu.py).

    .venv/bin/python -m tools.int8_cost model_repository/micro-cnn/7
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from model_artifact.quantized import read_int8
from service.backends.cpu import int8_dot_product
from tools.procfs import cpu_model


def measure(version_dir: Path, rounds: int = 30) -> dict:
    from training.quantize import convert, cpu_per_face, interpreter

    found = read_int8(version_dir)
    if found is None:
        raise SystemExit(f"{version_dir} has no usable int8 companion")
    float_fb, int8_fb = convert(version_dir), found[1]
    spec = json.loads((version_dir / "assets.extra" / "mmed.json").read_text())["input"]
    h, w = spec["height"], spec["width"]
    batch = np.random.default_rng(0).integers(0, 256, (32, h, w, 1), dtype=np.uint8)
    one = {"float": interpreter(float_fb, 1), "int8": interpreter(int8_fb, 1, int8=True)}
    threads = min(4, os.cpu_count() or 1)  # the gateway's (service/backends/runtimes.py)
    many = {"float": interpreter(float_fb, threads), "int8": interpreter(int8_fb, threads, True)}
    return {
        "version": str(version_dir),
        "cpu": cpu_model(),
        "int8_dot_product": int8_dot_product(),
        "cpu_ms_per_face_1_thread": cpu_per_face(one, batch, rounds),
        "threads": threads,
        "wall_ms_per_face": cpu_per_face(many, batch, rounds, clock=time.perf_counter),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", type=Path, help="an exported version with an int8 companion")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    json.dump(measure(args.version, args.rounds), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
