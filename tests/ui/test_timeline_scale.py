"""The timeline at interview scale (issue #18 target): a 12-minute recording analysed every frame
(21,808 frames) stays interactive — a click seeks in < 100 ms, input to painted frame — and is
downsampled for drawing only (min/max per pixel column), never for the data.

The result is synthesised and served through Playwright routes in place of the job API
(long_interview.py says why); the page itself is the real one, served by a real gateway.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from long_interview import FRAMES, JOB_ID, result, route_jobs

from tools import ui_browser
from tools.local_server import ROOT, local_server

REASON = ui_browser.unavailable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""), pytest.mark.slow]

# Input event -> the next painted frame, measured in the page.
LATENCY_PROBE = """(svg) => {
  window.__latency = [];
  const probe = (e) => {
    const t0 = e.timeStamp;
    requestAnimationFrame(() => setTimeout(() => window.__latency.push(performance.now() - t0)));
  };
  svg.addEventListener("pointerdown", probe, { capture: true });
  svg.addEventListener("keydown", probe, { capture: true });
}"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")  # unused (routes stubbed), kept out of the tree
    with local_server(ROOT / "model_repository", env={"MMED_JOBS_DIR": str(jobs)}) as server:
        yield server


def test_twelve_minutes_every_frame_stays_interactive(gateway, tmp_path: Path) -> None:
    body = result()
    with ui_browser.browser() as chromium:
        tab = ui_browser.new_tab(chromium)
        page = tab.page
        route_jobs(page, body)
        page.goto(f"{gateway.url}/ui")
        opened = page.evaluate("performance.now()")
        page.get_by_role("button", name="Open").first.click()
        ui_browser.wait_ready(page, 60)
        marks = ui_browser.marks(page)
        open_ms = marks["mmed-review-ready"] - opened
        draw_ms = marks["mmed-review-ready"] - marks["mmed-result-fetched"]
        svg = page.locator("#timeline")
        assert svg.get_attribute("data-frames") == str(FRAMES)
        assert svg.get_attribute("data-drawing") == "min-max-per-column"
        assert svg.get_attribute("aria-valuemax") == str(FRAMES - 1)
        # Drawn: at most two vertices per pixel column and class; the data keep every frame.
        box = svg.bounding_box()
        paths = "ps => ps.map(p => p.getAttribute('d'))"
        for d in page.eval_on_selector_all("#timeline path.line", paths):
            assert 0 < d.count("L") + d.count("M") <= 2 * box["width"]
        assert page.locator("#timeline rect.event").count() == len(body["events"])

        # One click and one key first (the first focus paints the focus ring), then each input
        # on its own: the next is sent when the previous one's frame was painted, so one stall
        # of this shared machine delays one sample, not a queue of them.
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 100)
        page.keyboard.press("ArrowLeft")
        svg.evaluate(LATENCY_PROBE)

        def measured(n: int) -> None:
            page.wait_for_function(f"() => window.__latency.length >= {n}")

        xs = [box["x"] + 40 + i * (box["width"] - 60) / 19 for i in range(20)]
        y = box["y"] + 100
        for i, x in enumerate(xs):
            page.mouse.click(x, y)
            measured(i + 1)
            head = float(page.locator(".cursor.playhead").get_attribute("data-x"))
            assert abs(head - (x - box["x"])) < 1.0  # the playhead went where the click was
        for i in range(20):
            page.keyboard.press("ArrowRight")
            measured(21 + i)
        latency = page.evaluate("window.__latency")
        page.keyboard.press("End")
        assert svg.get_attribute("aria-valuenow") == str(FRAMES - 1)

        # An event in the list (keyboard-reachable buttons) selects and seeks to its onset.
        third = body["events"][2]
        page.locator("#events tbody button").nth(2).click()
        assert svg.get_attribute("aria-valuenow") == str(third["onset_index"])
        head = page.locator(".cursor.playhead").get_attribute("data-x")
        assert head == page.locator(".cursor.selection").get_attribute("data-x")

        with page.expect_download() as download:
            page.click("#dl-csv")
        csv = Path(download.value.path()).read_text().splitlines()
        assert len(csv) == FRAMES + 1 and csv[-1].startswith(f"{FRAMES - 1},")
        assert "mmed-" + JOB_ID in download.value.suggested_filename

        seeks, keys = latency[:20], latency[20:]
        print(
            f"\n12-minute timeline ({FRAMES} frames): opened (5 result pages, drawn) in "
            f"{open_ms:.0f} ms (of which drawing {draw_ms:.0f} ms); click->paint median "
            f"{statistics.median(seeks):.1f} ms, max {max(seeks):.1f} ms; "
            f"arrow key->paint median {statistics.median(keys):.1f} ms, max {max(keys):.1f} ms"
        )
        # The target is on the typical seek; under this machine's shared load a single input
        # can wait behind another process, so one outlier in ten is allowed.
        for sample in (seeks, keys):
            assert statistics.median(sample) < 100, sample
            assert sorted(sample)[int(0.9 * len(sample)) - 1] < 100, sample
        assert tab.errors == []
