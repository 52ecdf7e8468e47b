"""``mmed analyze`` against a real gateway: submit, follow, results like ``mmed predict``,
the same job again for the same file (idempotency), ``--job ID`` to resume following."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from live import KEY, Gateway, gateway, gateway_env

from mmed_cli.__main__ import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(shipped: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("cli-gw")
    with gateway(gateway_env(shipped, root / "jobs"), root / "g.log") as g:
        yield g


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_follows_the_job_and_writes_results(
    server: Gateway, clip: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "session.mp4"
    video.write_bytes(clip)
    common = ["--server", server.url, "--api-key", KEY, "-q"]
    code, out, err = run(capsys, "analyze", str(video), *common, "--json")
    assert code == 0, err
    job_id = err.split("job ")[1].split()[0]
    [entry] = json.loads(out)
    frames = entry["result"]["frames"]
    assert [f["index"] for f in frames] == list(range(60))  # every frame by default
    code, out, err = run(capsys, "predict", str(video), *common, "--json", "--sample-interval", "0")
    assert code == 0 and json.loads(out)[0]["result"]["frames"] == frames

    # The same file and options again: the same job (no second upload), result at once.
    code, _, err = run(capsys, "analyze", str(video), *common, "--csv")
    assert code == 0 and f"job {job_id}" in err
    # Following by id (after Ctrl-C), with the CSV and plot outputs of `mmed predict`.
    plot = tmp_path / "timeline.png"
    code, out, err = run(capsys, "analyze", "--job", job_id, *common, "--csv", "--plot", str(plot))
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1 + 60 and plot.stat().st_size > 1000
    code, _, err = run(capsys, "analyze", "--job", "A" * 22, *common)
    assert code == 1 and "404" in err
