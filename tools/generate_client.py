"""Generate the Python client in ``clients/python`` from ``openapi.json`` (``make client``).

Runs openapi-python-client (pinned in the dev extra) with ``clients/openapi-python-client.yaml``;
its ruff post-hooks use the ruff of the same environment, so the output is reproducible.

One adaptation of the input: FastAPI documents an upload (OpenAPI 3.1) as
``{"type": "string", "contentMediaType": "application/octet-stream"}``, which
openapi-python-client 0.29 reads as a plain string field (the file would be sent as its
``str()``); it recognises uploads only by ``"format": "binary"`` (open upstream:
openapi-generators/openapi-python-client#1418). ``binary_uploads`` adds that format to such
fields before generating; the committed ``openapi.json`` is left as the app serves it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "clients" / "openapi-python-client.yaml"
OPENAPI = ROOT / "openapi.json"
OUTPUT = ROOT / "clients" / "python"


def binary_uploads(node: Any) -> Any:
    """A copy of an OpenAPI document in which octet-stream string schemas say format binary."""
    if isinstance(node, list):
        return [binary_uploads(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: binary_uploads(v) for k, v in node.items()}
    if out.get("type") == "string" and out.get("contentMediaType") == "application/octet-stream":
        out.setdefault("format", "binary")
    return out


def generate(openapi: Path = OPENAPI, output: Path = OUTPUT) -> Path:
    """Write the client project (``mmed-client``, package ``mmed_client``) to ``output``."""
    document = binary_uploads(json.loads(openapi.read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        adapted = Path(tmp) / "openapi.json"
        adapted.write_text(json.dumps(document, indent=2))
        return _run_generator(adapted, output)


def _run_generator(openapi: Path, output: Path) -> Path:
    bin_dir = Path(sys.executable).parent
    generator = bin_dir / "openapi-python-client"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(openapi),
            "--config",
            str(CONFIG),
            "--meta",
            "setup",
            "--output-path",
            str(output),
            "--overwrite",
            "--fail-on-warning",
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(output / ".ruff_cache", ignore_errors=True)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openapi", type=Path, default=OPENAPI)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        out = generate(args.openapi, args.output)
    except subprocess.CalledProcessError as exc:
        print(exc.stdout, exc.stderr, sep="\n", file=sys.stderr)
        return exc.returncode or 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
