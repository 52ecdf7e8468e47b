"""Jobs benchmark (issue 16), runnable alone: ``python -m bench.jobs``.

A 12-minute 30 fps talking-head recording — ``../shared/data/video/WolfgangLanger_Pexels.mp4``
(a real 640x360 clip, 19.7 s) ping-ponged forwards/backwards and re-encoded as H.264 at 30 fps,
cached in ``bench/.cache/`` — analysed every frame as one job on a fresh gateway process:

1. uninterrupted: wall time (submit → succeeded, the gateway's own timestamps and the client's)
   against the video's duration (target ≤ 0.2x, bar 0.5x) and the gateway's RSS rise over the
   job (VmRSS sampled every 0.25 s, peak minus the value before the submit; target ≤ 300 MB);
2. SIGKILL at ~50 % of the frames, restart on the same jobs directory: the job finishes and its
   frames are compared with run 1's, frame for frame (index, timestamp, box, label exactly,
   probabilities within 1e-6).

The machine's load average is recorded beside the figures. Results: ``bench/.cache/jobs.json``
and the "Jobs" section of ``docs/benchmarks.md`` (between its markers, nothing else touched).
``BENCH_JOBS_MINUTES`` shortens the recording (a quick check; the report says so).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from tools.local_server import _stop, free_port, spawn, wait_ready

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "video" / "WolfgangLanger_Pexels.mp4"
CACHE = ROOT / "bench" / ".cache"
REPORT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- jobs-bench:begin -->", "<!-- jobs-bench:end -->"
FPS = 30
KEY = "bench-key"
TOLERANCE = 1e-6


def build_recording(minutes: float) -> Path:
    """The talking-head recording (cached): the source's frames forwards then backwards,
    repeated, written at 30 fps."""
    out = CACHE / f"talking-head-{minutes:g}min-30fps.mp4"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with av.open(str(SOURCE)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    cycle = frames + frames[-2:0:-1]
    total = round(minutes * 60 * FPS)
    tmp = out.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as dst:
        stream = dst.add_stream("libx264", rate=FPS)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for n in range(total):
            frame = av.VideoFrame.from_ndarray(cycle[n % len(cycle)], format="rgb24")
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    tmp.rename(out)
    return out


@dataclass
class Server:
    url: str
    proc: Any
    log: Path

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise KeyError("VmRSS")


@contextmanager
def server(jobs_dir: Path, log: Path) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "MMED_MODEL_REPOSITORY": str(ROOT / "model_repository"),
        "MMED_API_KEYS": KEY,
        "MMED_BACKEND": "embedded",
        "MMED_JOBS_DIR": str(jobs_dir),
        "MMED_JOBS_LEASE_S": "5",
        "MMED_LOG_LEVEL": "INFO",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    proc = spawn(port, env, log, ["--log-level", "warning", "--no-access-log"])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(proc, url, log, 300)
        yield Server(url, proc, log)
    finally:
        _stop(proc)


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=600)


def submit(c: httpx.Client, video: Path) -> dict:
    with video.open("rb") as fh:
        r = c.post("/v1/jobs", params={"sample_interval": 0}, files={"file": ("s.mp4", fh)})
    r.raise_for_status()
    return r.json()


def wait(c: httpx.Client, job_id: str, until: float | None = None) -> dict:
    """Poll until finished, or until ``until`` (a fraction of frames_total) is reached."""
    while True:
        job = c.get(f"/v1/jobs/{job_id}").json()
        p = job["progress"]
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        if (
            until is not None
            and p["frames_total"]
            and p["frames_done"] >= until * p["frames_total"]
        ):
            return job
        time.sleep(0.25)


def frames(c: httpx.Client, job_id: str) -> list[dict]:
    r = c.get(f"/v1/jobs/{job_id}/result", headers={"Accept": "application/x-ndjson"})
    r.raise_for_status()
    return [json.loads(line) for line in r.text.splitlines()]


def seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def uninterrupted(video: Path, work: Path) -> tuple[dict[str, Any], list[dict]]:
    with server(work / "jobs-a", work / "a.log") as s, client(s.url) as c:
        before = s.rss()
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], s.rss())
                time.sleep(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        load = os.getloadavg()
        t0 = time.perf_counter()
        job = submit(c, video)
        job = wait(c, job["id"])
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        after = s.rss()
        assert job["status"] == "succeeded", job
        got = frames(c, job["id"])
    server_s = seconds(job["finished_at"]) - seconds(job["created_at"])
    return {
        "frames": len(got),
        "wall_s": round(wall, 1),
        "server_s": round(server_s, 1),
        "rss_before_mb": round(before / 2**20, 1),
        "rss_peak_mb": round(peak[0] / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "rss_rise_mb": round((peak[0] - before) / 2**20, 1),
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }, got


def killed(video: Path, work: Path, reference: list[dict]) -> dict[str, Any]:
    jobs_dir = work / "jobs-b"
    with server(jobs_dir, work / "b1.log") as s, client(s.url) as c:
        job = submit(c, video)
        at = wait(c, job["id"], until=0.5)
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait(10)
    killed_at = at["progress"]["frames_done"]
    t0 = time.perf_counter()
    with server(jobs_dir, work / "b2.log") as s, client(s.url) as c:
        done = wait(c, job["id"])
        restart_s = time.perf_counter() - t0
        assert done["status"] == "succeeded", done
        got = frames(c, job["id"])
    resumed = [ln for ln in (work / "b2.log").read_text().splitlines() if "resuming" in ln]
    same_index = [f["index"] for f in got] == [f["index"] for f in reference]
    exact = diff = 0
    max_dp = 0.0
    for g, r in zip(got, reference, strict=False):
        if (g["timestamp_s"], g["face"], g["label"]) == (r["timestamp_s"], r["face"], r["label"]):
            exact += 1
        else:
            diff += 1
        if g["probabilities"] and r["probabilities"]:
            a = np.array(list(g["probabilities"].values()))
            b = np.array(list(r["probabilities"].values()))
            max_dp = max(max_dp, float(np.max(np.abs(a - b))))
    return {
        "frames": len(got),
        "killed_at_frames": killed_at,
        "resume_log": json.loads(resumed[0])["message"] if resumed else None,
        "restart_to_done_s": round(restart_s, 1),
        "indices_equal": same_index,
        "frames_equal": exact,
        "frames_different": diff + abs(len(got) - len(reference)),
        "max_prob_diff": max_dp,
        "identical": same_index and diff == 0 and max_dp <= TOLERANCE,
    }


def report(figures: dict[str, Any]) -> str:
    u, k = figures["uninterrupted"], figures["sigkill"]
    ratio = u["server_s"] / figures["duration_s"]
    verdict = "met" if ratio <= 0.2 else ("within the bar" if ratio <= 0.5 else "NOT met")
    lines = [
        BEGIN,
        "## Jobs: a whole session as one job (`python -m bench.jobs`, issue 16)",
        "",
        f"Recording: {figures['recording']} — {figures['duration_s']:.0f} s at 30 fps "
        f"({u['frames']} frames, every one analysed), 640x360 H.264, a real talking head "
        "(WolfgangLanger_Pexels.mp4 ping-ponged). One gateway process, embedded backend, "
        "shipped micro-cnn, SQLite store, one job worker.",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
        f"| job wall time (gateway: submit → finished) | {u['server_s']:.1f} s = "
        f"**{ratio:.2f}x** the video ({u['frames'] / u['server_s']:.0f} frames/s) | ≤ 0.2x, "
        f"bar 0.5x: {verdict} |",
        f"| client wall time (upload + job + polling) | {u['wall_s']:.1f} s | |",
        f"| gateway RSS rise over the job (peak - before) | {u['rss_rise_mb']:.0f} MB "
        f"({u['rss_before_mb']:.0f} → peak {u['rss_peak_mb']:.0f}, after "
        f"{u['rss_after_mb']:.0f} MB) | ≤ 300 MB: "
        f"{'met' if u['rss_rise_mb'] <= 300 else 'NOT met'} |",
        f"| SIGKILL at {k['killed_at_frames']} of {k['frames']} frames, restart | "
        f"finished {k['restart_to_done_s']:.0f} s after the restart (incl. gateway start); "
        f"{k['resume_log']} | |",
        f"| resumed frames vs the uninterrupted run | {k['frames_equal']} equal, "
        f"{k['frames_different']} different; indices equal: {k['indices_equal']}; "
        f"max probability difference {k['max_prob_diff']:.1e} | identical: "
        f"{'met' if k['identical'] else 'NOT met'} |",
        "",
        f"Machine: 2 cores, shared with other work during the run: load average "
        f"{u['load_before'][0]:.1f} (1 min) at the start, {u['load_after'][0]:.1f} at the end "
        f"of the uninterrupted run; the benchmark ran under `nice -n 10`. Measured "
        f"{figures['measured_at']}.",
        END,
    ]
    if figures.get("quick"):
        lines.insert(2, "\n**Quick run (BENCH_JOBS_MINUTES): not the 12-minute figure.**\n")
    return "\n".join(lines)


def write_report(section: str) -> None:
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text)


def main() -> None:
    minutes = float(os.environ.get("BENCH_JOBS_MINUTES", "12"))
    video = build_recording(minutes)
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        duration = float(s.duration * s.time_base)
    work = Path(tempfile.mkdtemp(prefix="mmed-bench-jobs-"))
    first, reference = uninterrupted(video, work)
    print("uninterrupted:", first, flush=True)
    second = killed(video, work, reference)
    print("sigkill:", second, flush=True)
    figures = {
        "recording": video.name,
        "duration_s": duration,
        "quick": minutes != 12,
        "uninterrupted": first,
        "sigkill": second,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "jobs.json").write_text(json.dumps(figures, indent=2))
    write_report(report(figures))
    print(f"wrote {REPORT} (Jobs section) and {CACHE / 'jobs.json'}")


if __name__ == "__main__":
    main()
