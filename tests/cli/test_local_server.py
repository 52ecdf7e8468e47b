"""tools.local_server: a gateway that cannot start is an error with its log, not a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.local_server import local_server


def test_a_gateway_that_exits_at_start_raises_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "uvicorn.log"
    env = {"MMED_BACKEND": "no-such-backend"}  # rejected by the settings at start
    server = local_server(tmp_path, log=log, env=env, start_timeout_s=60)
    with pytest.raises(RuntimeError, match="uvicorn exited") as failed, server:
        pytest.fail("the gateway must not become ready")
    assert "MMED_BACKEND" in str(failed.value) or "backend" in str(failed.value).lower()
    assert log.stat().st_size > 0
