"""Write the gateway's OpenAPI document to ``openapi.json`` (``make openapi``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from service.app import create_app
from service.settings import Settings


def render() -> str:
    """The document exactly as the app serves it at /openapi.json, pretty-printed."""
    app = create_app(Settings(model_repository=Path("/nonexistent")))
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.json")
    target.write_text(render())
    print(f"wrote {target}")
