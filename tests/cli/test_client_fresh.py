"""The committed client in clients/python is exactly what ``make client`` generates now."""

from __future__ import annotations

import json
from pathlib import Path

from tools.generate_client import OPENAPI, OUTPUT, binary_uploads, generate


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".ruff_cache" not in p.parts
    }


def test_committed_client_matches_openapi_json(tmp_path: Path) -> None:
    fresh = tree(generate(OPENAPI, tmp_path / "python"))
    committed = tree(OUTPUT)
    assert "mmed_client/api/predict/predict_v1_predict_post.py" in fresh
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, f"clients/python is stale (run `make client`): {stale}"


def test_uploads_are_generated_as_files() -> None:
    """The generated body sends the upload as a file part, not as a string field."""
    body = (OUTPUT / "mmed_client/models/body_predict_v1_predict_post.py").read_text()
    assert "file: File" in body and "self.file.to_tuple()" in body
    doc = binary_uploads(json.loads(OPENAPI.read_text()))
    upload = doc["components"]["schemas"]["Body_predict_v1_predict_post"]["properties"]["file"]
    assert upload["format"] == "binary"
    assert upload["contentMediaType"] == "application/octet-stream"
