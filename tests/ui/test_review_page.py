"""The review page in a real browser (headless Debian Chromium through Playwright) against a real
gateway (shipped models, API key set, jobs on disk): upload a real clip, follow the job, review
the result — points plotted per frame, clicks and keys seek the video, events, face box,
downloads, the key only ever in a header — with no console error under the page's CSP."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from service.media import MediaLimits, open_media
from service.ui import CSP
from tools import ui_browser
from tools.facevideo import encode_video
from tools.local_server import ROOT, local_server

VIDEOS = ROOT / ".." / "shared" / "data" / "video"
KEY = "ui-test-key-3f9c"
REASON = ui_browser.unavailable() or (
    None if (VIDEOS / "single_face.mp4").is_file() else f"no clips in {VIDEOS} (../shared absent)"
)
# A real gateway and a browser: `make test` runs these, `make test-fast` leaves them out.
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""), pytest.mark.slow]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("jobs")
    with local_server(
        ROOT / "model_repository", api_keys=KEY, env={"MMED_JOBS_DIR": str(jobs)}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def chromium():
    with ui_browser.browser() as browser:
        yield browser


def job_result(url: str, job_id: str) -> dict:
    """The job's whole result as the API gives it (every page)."""
    frames: list[dict] = []
    while True:
        page = httpx.get(
            f"{url}/v1/jobs/{job_id}/result",
            params={"offset": len(frames)},
            headers={"X-API-Key": KEY},
            timeout=30,
        )
        page.raise_for_status()
        body = page.json()
        frames += body["frames"]
        if not body["frames"] or len(frames) >= body["media"]["frames_sampled"]:
            return {**body, "frames": frames}


def vertices(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


def current_time(page) -> float:
    page.wait_for_function("() => !document.getElementById('video').seeking")
    return page.evaluate("document.getElementById('video').currentTime")


def test_upload_follow_and_review(gateway, chromium, tmp_path: Path) -> None:
    tab = ui_browser.new_tab(chromium)
    page = tab.page
    response = page.goto(f"{gateway.url}/")
    assert response.url.endswith("/ui") and response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    # The server has keys: the page asks for one after its 401.
    page.wait_for_selector("#key-form", state="visible")
    # Chromium logs that 401 as a failed resource: the one console error expected.
    assert [e.split(" @ ")[1] for e in tab.errors] == [f"{gateway.url}/v1/models"]
    assert "401" in tab.errors.pop()
    ui_browser.enter_key(page, KEY)
    assert page.evaluate("sessionStorage.getItem('mmed.apiKey')") == KEY
    assert page.input_value("#sampling") == "0"  # every frame by default
    ui_browser.analyse(page, VIDEOS / "single_face.mp4", timeout_s=300)

    job_id = page.evaluate("document.body.dataset.ready")
    result = job_result(gateway.url, job_id)
    frames = result["frames"]
    svg = page.locator("#timeline")
    assert int(svg.get_attribute("data-frames")) == len(frames) > 10
    assert svg.get_attribute("data-drawing") == "every-frame"
    paths = page.eval_on_selector_all(
        "#timeline path.line", "ps => ps.map(p => [p.dataset.class, p.getAttribute('d')])"
    )
    assert [c for c, _ in paths] == result["model"]["classes"]
    with_face = [f for f in frames if f["probabilities"]]
    for _, d in paths:  # one plotted point per frame with a face
        assert len(vertices(d)) == len(with_face)
    assert page.locator("#summary tbody tr").count() == len(result["model"]["classes"])

    # Click a plotted point: the video goes to that frame's time.
    box = svg.bounding_box()
    k = len(with_face) * 2 // 3
    x, y = vertices(paths[0][1])[k]
    page.mouse.click(box["x"] + x, box["y"] + y)
    assert abs(current_time(page) - with_face[k]["timestamp_s"]) < 0.02
    # The paused frame shows its face box.
    page.wait_for_selector("#facebox", state="visible")
    assert page.locator("#facebox").text_content().startswith(with_face[k]["label"])

    # Keyboard: two frames back, Enter seeks.
    svg.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    i = frames.index(with_face[k]) - 2
    assert svg.get_attribute("aria-valuenow") == str(i)
    assert abs(current_time(page) - frames[i]["timestamp_s"]) < 0.02

    events = result.get("events") or []
    if events:  # present once spotting is merged: the list and the marks seek to the onset
        page.click("#events tbody button >> nth=0")
        assert abs(current_time(page) - events[0]["onset_s"]) < 0.02
        page.locator("#timeline rect.event").last.click()
        assert abs(current_time(page) - events[-1]["onset_s"]) < 0.02
    else:
        assert page.locator("#events").is_hidden()
        assert page.locator("#events-none").text_content()

    with page.expect_download() as download:
        page.click("#dl-json")
    assert json.loads(Path(download.value.path()).read_text())["frames"] == frames
    with page.expect_download() as download:
        page.click("#dl-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == len(frames) + 1 and lines[0].startswith("index,timestamp_s,label")

    # The job is listed; reopened without the file: timeline only, and an offer to pick it.
    page.click("#new")
    page.click("#jobs-refresh")
    page.get_by_role("button", name="Open").first.wait_for()
    page.reload()
    ui_browser.enter_key(page, None)  # the key survived the reload (this tab's storage)
    page.get_by_role("button", name="Open").first.click()
    ui_browser.wait_ready(page, 60)
    assert page.locator("#no-file").is_visible() and page.locator("#stage").is_hidden()
    page.set_input_files("#replay-file", str(VIDEOS / "single_face.mp4"))
    page.wait_for_selector("#stage", state="visible")

    assert tab.errors == []
    assert not any(KEY in u for u in tab.urls), "the API key went into a URL"
    assert not any(KEY in line for line in gateway.log.read_text().splitlines())


def test_cancel_a_running_job(gateway, chromium) -> None:
    """Cancel while the job runs: the page sends DELETE, returns to the form; the job is
    cancelled for the API too."""
    tab = ui_browser.new_tab(chromium)
    page = tab.page
    page.goto(f"{gateway.url}/ui")
    ui_browser.enter_key(page, KEY)
    page.set_input_files("#file", str(VIDEOS / "WolfgangLanger_Pexels.mp4"))
    page.click("#start")
    page.wait_for_function(
        "() => document.getElementById('progress-text').textContent.startsWith('running')",
        timeout=120_000,
    )
    assert page.locator("#live").text_content().startswith("Analysis")
    page.click("#cancel")
    page.wait_for_selector("#submit", state="visible")
    jobs = httpx.get(f"{gateway.url}/v1/jobs", headers={"X-API-Key": KEY}).json()["jobs"]
    assert jobs[0]["status"] == "cancelled"
    assert len(tab.errors) == 1 and "401" in tab.errors[0]  # only the key probe


@pytest.mark.slow
def test_twenty_second_clip_ready_within_two_seconds(gateway, chromium) -> None:
    """Issue #18 target: a 20 s clip every frame, page ready to review <= 2 s after the job
    finished (the job's end event to the drawn timeline and the video's first frame)."""
    tab = ui_browser.new_tab(chromium)
    page = tab.page
    page.goto(f"{gateway.url}/ui")
    ui_browser.enter_key(page, KEY)
    assert len(tab.errors) == 1 and "401" in tab.errors.pop()  # the key probe (see above)
    ui_browser.analyse(page, VIDEOS / "WolfgangLanger_Pexels.mp4", timeout_s=900)
    marks = ui_browser.marks(page)
    ready_ms = marks["mmed-review-ready"] - marks["mmed-job-end"]
    draw_ms = marks["mmed-review-ready"] - marks["mmed-result-fetched"]
    n = int(page.locator("#timeline").get_attribute("data-frames"))
    print(
        f"\n20 s clip, {n} frames: ready {ready_ms:.0f} ms after the job's end event "
        f"(result fetched, then drawn and the video's first frame in {draw_ms:.0f} ms)"
    )
    assert n == len(job_result(gateway.url, page.evaluate("document.body.dataset.ready"))["frames"])
    assert n > 400  # 19.7 s at 23.976 fps: 472 frames
    assert ready_ms <= 2000
    assert tab.errors == []


def _stored_as(kind: str) -> tuple[bytes, tuple[int, int]]:
    """single_face.mp4 as a phone (frames on their side, a matrix turning them back) or an
    HDV-style camcorder (squashed to 480 wide, 4:3 pixels) stores it; and its shown size."""
    with (VIDEOS / "single_face.mp4").open("rb") as f, open_media(f, MediaLimits()) as m:
        grey = [fr.image for fr in m.frames(0.0)]
    if kind == "phone":
        rgb = [np.repeat(np.rot90(g, 1)[..., None], 3, axis=2) for g in grey]
        return encode_video(rgb, 30, options={"crf": "18"}, display=(-90, False, False)), (640, 360)
    rgb = [
        np.repeat(cv2.resize(g, (480, 360), interpolation=cv2.INTER_AREA)[..., None], 3, axis=2)
        for g in grey
    ]
    return encode_video(rgb, 30, options={"crf": "18"}, pixel_aspect=Fraction(4, 3)), (480, 270)


@pytest.mark.parametrize("kind", ["phone", "camcorder"])
def test_clip_is_shown_as_stored_for_display_with_the_box_on_its_face(
    gateway, chromium, tmp_path, kind
) -> None:
    # Chromium shows the clip turned (phone) or with square pixels (camcorder), and so does the
    # service: the same aspect, so the face box lands where the face is on screen.
    data, (width, height) = _stored_as(kind)
    clip = tmp_path / f"{kind}.mp4"
    clip.write_bytes(data)
    tab = ui_browser.new_tab(chromium)
    page = tab.page
    page.goto(f"{gateway.url}/ui")
    ui_browser.enter_key(page, KEY)
    ui_browser.analyse(page, clip, timeout_s=300)
    result = job_result(gateway.url, page.evaluate("document.body.dataset.ready"))
    assert (result["media"]["width"], result["media"]["height"]) == (width, height)
    shown = page.evaluate("(v => [v.videoWidth, v.videoHeight])(document.getElementById('video'))")
    assert abs(shown[0] / shown[1] - width / height) < 0.01, shown

    with_face = [f for f in result["frames"] if f["face"]]
    assert len(with_face) == len(result["frames"])
    svg = page.locator("#timeline")
    d = page.eval_on_selector("#timeline path.line", "p => p.getAttribute('d')")
    k = len(with_face) // 2
    x, y = vertices(d)[k]
    box = svg.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    assert abs(current_time(page) - with_face[k]["timestamp_s"]) < 0.02
    page.wait_for_selector("#facebox", state="visible")
    video = page.locator("#video").bounding_box()
    drawn = page.locator("#facebox").bounding_box()
    scale = min(video["width"] / width, video["height"] / height)
    left = video["x"] + (video["width"] - width * scale) / 2
    top = video["y"] + (video["height"] - height * scale) / 2
    face = with_face[k]["face"]
    assert abs(drawn["x"] - (left + face["x"] * scale)) < 4
    assert abs(drawn["y"] - (top + face["y"] * scale)) < 4
    assert abs(drawn["width"] - face["w"] * scale) < 6
    # The 401 before the key was entered is the one console error expected.
    assert [e for e in tab.errors if "401" not in e] == []
