"""Turn the measurements into targets met/missed and docs/benchmarks.md (around the load-test
section another tool writes between its markers, which is kept as it is)."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.measure import iou
from bench.report_real import DEFAULTS_TEXT, real_sections, real_targets
from bench.stats import fmt_s

BEGIN, END = "<!-- loadtest:begin -->", "<!-- loadtest:end -->"
JOBS_BEGIN, JOBS_END = "<!-- jobs-bench:begin -->", "<!-- jobs-bench:end -->"
MB = 1_000_000
MIB = 2**20


def jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item"):
        return obj.item()
    return obj


def _ours_fps(entry: dict) -> float:
    return entry["frames_sampled"] / entry["seconds"]["median"]


def agreement(ours: dict, fer: dict) -> dict[str, Any]:
    """Per sampled frame, against our face: fer's first face (the one its ``Video`` keeps) at
    the same place (IoU > 0.5), any of fer's faces there, or neither found a face."""
    every = fer["frequency"]
    boxes = {int(k): v for k, v in ours["boxes"].items()}
    first = anywhere = n = ours_found = fer_found = 0
    ious = []
    for k, faces in enumerate(fer.get("faces", [])):
        if k * every not in boxes:
            continue
        our_box = boxes[k * every]
        n += 1
        ours_found += our_box is not None
        fer_found += bool(faces)
        if our_box is None or not faces:
            first += our_box is None and not faces
            anywhere += our_box is None and not faces
            continue
        overlaps = [iou(our_box, f) or 0.0 for f in faces]
        ious.append(overlaps[0])
        first += overlaps[0] > 0.5
        anywhere += max(overlaps) > 0.5
    return {
        "frames": n,
        "first": first,
        "any": anywhere,
        "ours_found": ours_found,
        "fer_found": fer_found,
        "median_iou_first": statistics.median(ious) if ious else None,
    }


def targets(r: dict) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    floors, e2e = r["floors"], r["e2e"]

    def ratio_rows(interval: float, limit: float, what: str) -> None:
        for key, entry in e2e.items():
            res = entry["clip"].split("-")[1]
            if entry["interval"] != interval or res not in ("480p", "720p"):
                continue
            ratio = entry["seconds"]["median"] / entry["decode"]["median"]
            out.append({
                "target": f"{what} ≤ {limit:g} x decode floor",
                "workload": key,
                "value": f"{ratio:.2f} x",
                "met": ratio <= limit,
            })  # fmt: skip

    ratio_rows(0.5, 2.0, "end to end, 0.5 s sampling")
    ratio_rows(0.0, 3.0, "end to end, every frame")
    for key, fer in r["peer"]["clips"].items():
        name, every = key.split("@")
        interval = 0.0 if every == "1" else 0.5
        ours = e2e.get(f"{name}@{interval:g}")
        if ours is None:
            continue
        ratio = _ours_fps(ours) / (fer["analysed"] / fer["median_s"])
        limit = 5.0 if interval == 0 else 2.0
        out.append({
            "target": f"frames/s ≥ {limit:g} x fer ({'every frame' if interval == 0 else '0.5 s'})",
            "workload": key.replace("@15", "@0.5").replace("@1", "@0"),
            "value": f"{ratio:.1f} x",
            "met": ratio >= limit,
        })  # fmt: skip
    mem = r["memory"]
    for sampling in ("0.5", "0"):
        rise = mem[sampling]["rise"]
        out.append({
            "target": "peak RSS rise ≤ 300 MB",
            "workload": f"{mem['clip']}@{sampling}",
            "value": f"{rise / MB:.0f} MB",
            "met": rise <= 300 * MB,
        })  # fmt: skip
    ratio = r["concurrency"]["ratio"]
    out.append({
        "target": "4 image clients ≥ 1.5 x throughput of 1",
        "workload": "480p JPEG",
        "value": f"{ratio:.2f} x",
        "met": ratio >= 1.5,
    })  # fmt: skip
    for name, entry in floors.items():
        for key, det in entry.items():
            if key.startswith("detect@") and "naive_found" in det:
                out.append({
                    "target": "recall: tracked ≥ full-res Haar (frames with a face)",
                    "workload": f"{name}@{key.split('@')[1]}",
                    "value": f"{det['tracked_found']} vs {det['naive_found']} of {det['frames']}",
                    "met": det["tracked_found"] >= det["naive_found"],
                })  # fmt: skip
    return out + real_targets(r.get("real"))


def dot_product(m: dict) -> str:
    """The machine line's note on 8-bit dot products (int8 is no faster without them)."""
    dot = m.get("int8_dot_product")
    if dot is None:
        return ""
    return (
        " (int8 dot products: " + ("yes" if dot else "no, so int8 runs no faster than float") + ")"
    )


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x * 1000:.1f} ms"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows), ""]


def render(r: dict) -> tuple[str, str]:
    """(the part before the load-test block, the part after it)."""
    m = r["machine"]
    targets = [t for t in r["targets"] if not t.get("info")]
    met = sum(t["met"] for t in targets)
    top = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py) — do not edit by hand; the raw numbers are in",
        "[benchmarks.json](benchmarks.json). Every figure is the **median** of repeated runs with",
        "its spread as ± half the min-max range (% of the median); all ratios come from this",
        "one run.",
        "",
        f"- commit `{m['commit'][:12]}`{' (with uncommitted changes)' if m['dirty'] else ''},"
        f" {m['date']}, plan **{r['plan']}**, {r['wall_s'] / 60:.1f} min",
        f"- machine: {m['cores']} cores, {m['cpu']}{dot_product(m)}, {m['memory_gib']} GiB,"
        f" Linux {m['kernel']};"
        f" load average {m['load_start'][0]:.1f} at the start, {m['load_end'][0]:.1f} at the end"
        " (the end includes the benchmark's own work"
        + ("; other work ran beside it" if m["load_start"][0] >= 1.0 else "")
        + ")",
        f"- Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f"; fer {r['peer']['versions']['fer']} (own venv: "
        + ", ".join(f"{k} {v}" for k, v in r["peer"]["versions"].items() if k != "fer")
        + ")",
        f"- models: `{r['models']['repository']}` ({r['models']['source']}"
        + (
            ": random-weight exports of the shipped architectures; speed does not depend on "
            "the weights"
            if r["models"]["source"] == "untrained"
            else ""
        )
        + "), embedded TensorFlow backend",
        "- media (bench/workloads.py): H.264 clips, 30 fps, x264 veryfast CRF 23, 480p ="
        " 854x480, 720p, 1080p: scikit-image's astronaut photograph (a real face, drifting as"
        " in tools/facevideo.py) in front of a real indoor photograph (scikit-image's coffee"
        " cup) panning half a pixel per frame, with Gaussian sensor noise (sigma 6), so the"
        " bitrate (column kbit/s) and the decoding cost are those of ordinary webcam/phone"
        " footage rather than of a flat synthetic canvas; images are JPEG stills of the face"
        " photograph (tools/facevideo.face_image)",
        "",
        f"## Targets ({met} of {len(targets)} met)",
        "",
        *_table(
            ["target", "workload", "measured", ""],
            [[t["target"], t["workload"], t["value"], _verdict(t)] for t in r["targets"]],
        ),
    ]
    top += _e2e_section(r)
    top += _peer_section(r)
    top += _images_concurrency_memory(r)
    top += _ablation_section(r)
    top += _arch_section(r)
    if "real" in r:  # runs before the recorded clips were benchmarked have no such part
        top += real_sections(r["real"])
    top += DEFAULTS_TEXT
    bottom = _method_section(r)
    return "\n".join(top), "\n".join(bottom)


def _verdict(t: dict) -> str:
    if t.get("info"):
        return "not a target"
    if t["met"]:
        return "met"
    return "**missed** (bar met)" if t.get("bar") else "**missed**"


def write_real(r: dict, path: Path) -> None:
    """The recorded-clip part alone (BENCH_REAL_ONLY=1)."""
    m = r["machine"]
    targets = [t for t in r["targets"] if not t.get("info")]
    met = sum(t["met"] for t in targets)
    lines = [
        "# Benchmarks on recorded clips",
        "",
        "Written by `BENCH_REAL_ONLY=1 make bench` (bench/run.py, bench/real.py) — do not edit"
        " by hand; raw numbers in [benchmarks-real.json](benchmarks-real.json). Medians of"
        " repeated runs, spread ± half the min-max range; all ratios from this one run.",
        "",
        f"- commit `{m['commit'][:12]}`{' (with uncommitted changes)' if m['dirty'] else ''},"
        f" {m['date']}, plan **{r['plan']}**, {r['wall_s'] / 60:.1f} min",
        f"- machine: {m['cores']} cores, {m['cpu']}{dot_product(m)}, {m['memory_gib']} GiB;"
        f" load average {m['load_start'][0]:.1f} at the start, {m['load_end'][0]:.1f} at the end",
        f"- models: `{r['models']['repository']}` ({r['models']['source']}), embedded backend",
        "",
        f"## Targets ({met} of {len(targets)} met)",
        "",
        *_table(
            ["target", "workload", "measured", ""],
            [[t["target"], t["workload"], t["value"], _verdict(t)] for t in r["targets"]],
        ),
        *real_sections(r.get("real")),
        *DEFAULTS_TEXT,
    ]
    path.write_text("\n".join(lines))


def _e2e_section(r: dict) -> list[str]:
    out = [
        "## End to end through the HTTP API, against the floors",
        "",
        "Floors, measured in the same run: **decode** = PyAV decoding every frame of the clip"
        " (the gateway's threading, no pixel conversion: the cheapest possible pass), timed in"
        " the benchmark process alternately with the end-to-end requests, so both see the same"
        " background load;"
        " **detect** = the gateway's face detection alone on the sampled grey frames (already"
        " decoded); **model** = the SavedModel alone on the clip's crops in batches of 32."
        " End to end = client wall time of `POST /v1/predict` (upload, decode, detect, infer,"
        " JSON). Stage columns divide the gateway's own `timing_ms` by the matching floor"
        " (decode and detect overlap in the gateway, so they add up to more than the total).",
        "",
    ]
    for interval, title in ((0.5, "0.5 s sampling"), (0.0, "every frame")):
        rows = []
        for entry in r["e2e"].values():
            if entry["interval"] != interval:
                continue
            f = r["floors"][entry["clip"]]
            det = f[f"detect@{interval:g}"]
            dec = entry["decode"]["median"]
            st = entry["stages_ms"]
            model = det["model"]["median"] if det.get("model") else None
            rows.append([
                entry["clip"],
                f"{r['clips'][entry['clip']]['kbps']:.0f}",
                entry["frames_sampled"],
                entry["frames_with_face"],
                fmt_s(entry["decode"]),
                fmt_s(det["tracked"]),
                fmt_s(det.get("model")),
                fmt_s(entry["seconds"]),
                f"**{entry['seconds']['median'] / dec:.2f} x**",
                f"{st['decode'] / 1000 / dec:.2f} x",
                f"{st['detect'] / 1000 / det['tracked']['median']:.2f} x",
                f"{st['infer'] / 1000 / model:.2f} x" if model else "—",
            ])  # fmt: skip
        out += [f"### {title}", ""]
        out += _table(
            ["clip", "kbit/s", "frames", "with face", "decode floor", "detect floor", "model floor",
             "end to end", "e2e / decode", "decode stage / floor", "detect stage / floor",
             "infer stage / floor"],
            rows,
        )  # fmt: skip
    rows = []
    for name, f in r["floors"].items():
        for key, det in f.items():
            if key.startswith("detect@") and "naive" in det:
                rows.append([
                    f"{name}@{key.split('@')[1]}",
                    det["frames"],
                    fmt_s(det["naive"]),
                    fmt_s(det["tracked"]),
                    f"{det['naive']['median'] / det['tracked']['median']:.1f} x",
                    f"{det['naive_found']} / {det['tracked_found']}",
                    f"{det['iou_vs_naive'].get('min', 0):.2f} / "
                    f"{det['iou_vs_naive'].get('median', 0):.2f}",
                ])  # fmt: skip
    out += [
        "### Face detection: full-resolution Haar vs the gateway's tracker",
        "",
        "Full-resolution Haar on every sampled frame (the naive pipeline; one run) against"
        f" `FaceTracker` ({r.get('tracker_text', HAAR_TRACKER_TEXT)})."
        " Recall = sampled frames with a face found.",
        "",
        *_table(
            [
                "clip",
                "frames",
                "full-res Haar",
                "tracker",
                "speed-up",
                "found (full / tracker)",
                "IoU vs full-res (min / median)",
            ],
            rows,
        ),
    ]
    return out


# What the tracker was in runs before the tracker's description was recorded with the results.
HAAR_TRACKER_TEXT = (
    "a full search on the first frame, every 10 s of media and whenever the face is lost: a"
    " coarse search (scale steps 1.2, 3 neighbours) on the frame downscaled so the smallest"
    " face looked for is 36 px, its 4 best candidates confirmed by a window search,"
    " full-resolution Haar if none is; in between a search 0.2 box sizes (+ the seconds since"
    " the previous frame, at most 0.5) around the last face, at 48 px, sizes within 1.15 x"
)


def tracker_text() -> str:
    import inspect

    from service.faces import FaceTracker

    d = {k: p.default for k, p in inspect.signature(FaceTracker).parameters.items()}
    return (
        f"BlazeFace on the whole frame on the first frame, every {d['refresh_s']:g} s of media"
        f" and whenever the face is lost, Haar's keyframe search if it finds nothing (at most"
        f" every {d['haar_every_s']:g} s); in between Lucas-Kanade optical flow on the face box"
        f" (the face at {d['flow_face_px']} px), confirmed by BlazeFace on a square"
        f" {d['roi']:g} box sizes wide every {d['confirm_s']:g} s; without a face, a search at"
        f" most every {d['search_every_s']:g} s"
    )


def _peer_section(r: dict) -> list[str]:
    p = r["peer"]
    rows = []
    for key, fer in p["clips"].items():
        name, every = key.split("@")
        interval = 0.0 if every == "1" else 0.5
        ours = r["e2e"].get(f"{name}@{interval:g}")
        if ours is None:
            continue
        fer_fps = fer["analysed"] / fer["median_s"]
        agree = agreement(ours, fer) if fer.get("faces") else None
        rows.append([
            name,
            "every frame" if interval == 0 else "0.5 s",
            fer["analysed"],
            f"{fer['median_s']:.3f} s",
            f"{fer_fps:.1f}",
            f"{ours['seconds']['median']:.3f} s",
            f"{_ours_fps(ours):.1f}",
            f"**{_ours_fps(ours) / fer_fps:.1f} x**",
            (f"{agree['first']}/{agree['frames']} first face, {agree['any']}/"
             f"{agree['frames']} any face (faces in: ours {agree['ours_found']}, fer "
             f"{agree['fer_found']})") if agree else "—",
        ])  # fmt: skip
    return [
        "## Side by side with `fer` (PyPI, its Haar + TFLite mini-Xception default)",
        "",
        "Same clips, same frames (fer's `Video.analyze(frequency=15)` analyses frames 0, 15,"
        " 30 … = our 0.5 s sampling at 30 fps; `frequency=1` = every frame). fer runs in its own"
        " venv (bench/.venv-fer, pins in pyproject.toml `[tool.mmed.bench.peer]`, installed"
        " with `--no-deps` plus what its image path needs), in a subprocess, timed there around"
        " `analyze` only (model already loaded; ours is timed over HTTP, which includes the"
        " upload). `cv2.waitKey` and `cv2.destroyAllWindows` are patched to no-ops in fer's"
        " process (headless OpenCV). No frames, video or zip written (`save_*=False`)."
        " Agreement with our face per sampled frame (IoU > 0.5, or neither found one): fer's"
        " first face (the one its `Video` keeps and labels) and any face fer found (its"
        " detections in the panning background come first in some frames). fer's peak RSS:"
        f" {p['peak_rss_bytes'] / MIB:.0f} MiB.",
        "",
        *_table(
            [
                "clip",
                "analysed",
                "frames",
                "fer",
                "fer frames/s",
                "ours (HTTP)",
                "ours frames/s",
                "ours / fer",
                "detection agreement",
            ],
            rows,
        ),
    ]


def _images_concurrency_memory(r: dict) -> list[str]:
    rows = [
        [res, fmt_s(e["seconds"], "ms", 1), "yes" if e["face"] else "no",
         f"{e['stages_ms']['detect']:.1f} ms", f"{e['stages_ms']['infer']:.1f} ms"]
        for res, e in r["images"].items()
    ]  # fmt: skip
    c = r["concurrency"]
    mb = r["ablations"]["microbatch"]
    mem = r["memory"]
    mem_rows = [
        [f"{mem['clip']}@{k}", mem[k]["frames_sampled"], f"{mem[k]['seconds']:.1f} s",
         f"{mem[k]['rss_before'] / MB:.0f} MB", f"{mem[k]['peak'] / MB:.0f} MB",
         f"**{mem[k]['rise'] / MB:.0f} MB**"]
        for k in ("0.5", "0")
    ]  # fmt: skip
    return [
        "## Images, concurrency, memory",
        "",
        "One JPEG still through the API (the image search, service/faces/still.py: BlazeFace on"
        " the whole image, framed by a Haar window search around its face; no tracking):",
        "",
        *_table(["image", "end to end", "face", "detect stage", "infer stage"], rows),
        f"Concurrency (480p JPEG, {c['1']['n']} alternating runs): 1 client"
        f" {c['1']['median']:.1f} requests/s ±{c['1']['spread'] * 50:.0f} %, 4 concurrent"
        f" clients {c['4']['median']:.1f} requests/s ±{c['4']['spread'] * 50:.0f} %:"
        f" **{c['ratio']:.2f} x**. Micro-batching alone (in-process backend, 4 concurrent"
        f" callers x 1 crop, 200 calls): {mb['off']['requests_per_s']:.0f} calls/s in"
        f" {mb['off']['model_calls']} model calls without, {mb['on']['requests_per_s']:.0f}"
        f" calls/s in {mb['on']['model_calls']} model calls with it.",
        "",
        f"Memory: a fresh gateway, warmed up (an image and a 5 s 1080p clip), then one"
        f" {mem['clip']} upload ({mem['upload_bytes'] / MB:.1f} MB); peak = VmHWM during the"
        " request (reset before it through /proc/PID/clear_refs), rise = peak - RSS just before."
        " Every frame is capped by MMED_MAX_FRAMES (2000) as in production.",
        "",
        *_table(["clip", "frames", "time", "RSS before", "peak", "rise"], mem_rows),
    ]


def _ablation_section(r: dict) -> list[str]:
    out = [
        "## What each optimisation bought (same run)",
        "",
        "The gateway's pipeline in-process (no HTTP), each step switched on in turn; 'before'"
        " is the pipeline as it was before issue 9 (PyAV's swscale grey conversion, full-"
        "resolution Haar on every analysed frame, decoding and detection taking turns in one"
        " thread, OpenCV on all cores).",
        "",
    ]
    for key, variants in r["ablations"]["pipeline"].items():
        first = next(iter(variants.values()))["seconds"]["median"]
        rows = [
            [label, fmt_s(v["seconds"]), f"{first / v['seconds']['median']:.1f} x",
             v["frames_with_face"]]
            for label, v in variants.items()
        ]  # fmt: skip
        out += [f"### {key}", "", *_table(["pipeline", "time", "speed-up", "with face"], rows)]
    grey = [
        [name, fmt_s(f["decode"]), fmt_s(f["grey_swscale"]), fmt_s(f["grey_gateway"])]
        for name, f in r["floors"].items()
        if "grey_swscale" in f
    ]
    out += [
        "Grey frames for every frame of a clip: decode only, decode + PyAV"
        " `to_ndarray(format='gray')` (swscale), decode + the gateway's luma-plane path"
        " (`service.media.grey_frame`, identical pixels):",
        "",
        *_table(["clip", "decode only", "+ swscale grey", "+ luma-plane grey"], grey),
    ]
    return out


def _arch_section(r: dict) -> list[str]:
    rows = []
    for arch, a in r["archs"].items():
        lat = a["latency"]
        per_row_1 = lat["1"]["median"]
        per_row_64 = lat["64"]["median"] / 64
        rows.append([
            arch, f"{a['input'][0]}x{a['input'][1]}", a["source"],
            fmt_s(lat["31"], "ms", 1), _ms(lat["1"]["median"]), _ms(lat["8"]["median"]),
            _ms(lat["64"]["median"]), f"{per_row_1 / per_row_64:.1f} x",
            f"{(a['peak_rss'] - a['rss_after_tf_import']) / MB:.0f} MB",
            f"{a['peak_rss'] / MB:.0f} MB",
        ])  # fmt: skip
    return [
        "## Per architecture (CPU, embedded TensorFlow, one process per model)",
        "",
        "Latency of one `serving_default` call; memory = peak RSS of a process that imported"
        " TensorFlow, loaded only this model and ran the batches (model = peak - RSS after"
        " importing TensorFlow). Batching gain = per-crop cost at batch 1 / at batch 64.",
        "",
        *_table(
            [
                "arch",
                "input",
                "weights",
                "31 crops",
                "1 crop",
                "8 crops",
                "64 crops",
                "batching gain",
                "model memory",
                "process peak",
            ],
            rows,
        ),
        *_batching_advice(r),
    ]


def _batching_advice(r: dict) -> list[str]:
    lines = ["### TF Serving batching settings we recommend", ""]
    for arch, a in r["archs"].items():
        lat = a["latency"]
        one, b31 = lat["1"]["median"], lat["31"]["median"]
        # Waiting for partners pays when a call of 1 crop costs a sizeable part of a 32-batch;
        # never wait longer than ~half a single call (so a lone request's latency at most
        # grows by half).
        timeout_us = int(min(one * 0.5, 0.005) * 1e6 // 100 * 100) or 100
        lines.append(
            f"- **{arch}**: one crop {one * 1000:.1f} ms, 31 crops {b31 * 1000:.1f} ms →"
            f" `max_batch_size 64`, `batch_timeout_micros {timeout_us}`,"
            " `allowed_batch_sizes 8, 16, 32, 64`"
        )
    lines += [
        "",
        "Everywhere: `num_batch_threads` = the cores given to TF Serving (2 here),"
        " `max_enqueued_batches 100`, `enable_large_batch_splitting true` (a 32-crop video"
        " chunk must not wait for a 64 slot). The gateway already sends a video's crops in"
        " chunks of 32 and micro-batches images, so server-side batching mainly helps many"
        " concurrent image clients; a timeout of about half a single-crop call keeps a lone"
        " request's latency within 1.5x (`model_artifact/serving_config.py` writes 2000 µs by"
        " default).",
        "",
    ]
    return lines


def _method_section(r: dict) -> list[str]:
    return [
        "## How to reproduce",
        "",
        "`make bench` (full plan; BENCH_QUICK=1 for a quick development pass that writes to"
        " bench/.cache instead of docs/). It builds bench/.venv-fer for the peer, encodes the"
        " clips into bench/.cache, starts the gateway with `uvicorn service.app:app` on a free"
        " port and measures; the gateway runs with its production settings (embedded backend,"
        " MMED_MAX_FRAMES 2000, micro-batching on).",
        "",
    ]


def write(r: dict, path: Path) -> None:
    top, bottom = render(r)
    block = f"{BEGIN}\n{END}"
    jobs = ""  # the jobs benchmark's section (bench/jobs.py writes it), kept at the end
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            block = text[text.index(BEGIN) : text.index(END) + len(END)]
        if JOBS_BEGIN in text and JOBS_END in text:
            jobs = "\n" + text[text.index(JOBS_BEGIN) : text.index(JOBS_END) + len(JOBS_END)] + "\n"
    path.write_text(f"{top}\n{block}\n\n{bottom}{jobs}")
