"""The README's API examples are what `make docs-images` gets from the shipped models today:
every output line it shows (bar timings and the plot's path) comes out of a fresh run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import docs_images

pytestmark = pytest.mark.slow  # `make test` runs it; `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[2]


INT8_STEP = 1 / 256 + 1e-6
NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def _same(shown: str, fresh: str) -> bool:
    """Equal text, numbers equal up to float noise (another CPU may round differently) or one
    step of the default int8 runtime's probabilities (1/256: its requantization is exact
    integer arithmetic, but a different XNNPACK kernel could round one step apart)."""
    a, b = NUMBER.findall(shown), NUMBER.findall(fresh)
    return (
        NUMBER.sub("#", shown) == NUMBER.sub("#", fresh)
        and len(a) == len(b)
        and all(
            float(x) == pytest.approx(float(y), rel=1e-3, abs=INT8_STEP)
            for x, y in zip(a, b, strict=True)
        )
    )


def _fenced(text: str, after: str, lang: str) -> str:
    start = text.index(f"```{lang}\n", text.index(after)) + len(lang) + 4
    return text[start : text.index("\n```", start)]


@pytest.fixture(scope="module")
def transcripts(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not any((ROOT / "model_repository").glob("masked-*/*/saved_model.pb")):
        pytest.skip("no shipped masked model in model_repository/")
    out = tmp_path_factory.mktemp("docs")
    assert docs_images.main(["--out", str(out / "plot.png"), "--media", str(out)]) == 0
    assert (out / "plot.png").stat().st_size > 10_000
    assert (out / "annotated.mp4").stat().st_size > 0
    return (out / "transcripts.md").read_text()


def test_the_json_answer_in_the_readme_is_current(transcripts: str) -> None:
    readme = (ROOT / "README.md").read_text()
    shown = json.loads(_fenced(readme, "<summary>answer</summary>", "json"))
    fresh = json.loads(_fenced(transcripts, "## curl (image)", "json"))
    assert shown.pop("timing_ms").keys() == fresh.pop("timing_ms").keys()
    assert _same(json.dumps(shown), json.dumps(fresh))


def test_the_client_and_cli_outputs_in_the_readme_are_current(transcripts: str) -> None:
    readme = (ROOT / "README.md").read_text()
    client = _fenced(transcripts, "## Python client", "text")
    assert _same(_fenced(readme, "print(result.summary.dominant_label", "text"), client)
    plot = re.compile(r"--plot \S+|wrote \S+\.png")
    fresh = plot.sub("PLOT", _fenced(transcripts, "## mmed", "text"))
    shown = plot.sub("PLOT", _fenced(readme, "**`mmed` command line**", "text"))
    assert _same(shown, fresh)
