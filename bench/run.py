"""`make bench`: measure, then write docs/benchmarks.md and docs/benchmarks.json.

.venv/bin/python -m bench.run            # full plan (about 20-30 min on 2 cores)
BENCH_QUICK=1 .venv/bin/python -m bench.run   # a few minutes, for development
BENCH_REAL_ONLY=1 .venv/bin/python -m bench.run   # only the recorded clips (bench/real.py),
                                                  # written to docs/benchmarks-real.md/.json
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import measure, real, report, stored
from bench import plan as plans
from bench.floors import decode_all
from bench.gateway import Gateway, gateway
from bench.models import SHIPPED, has_models, repository, untrained_export
from bench.peer_env import ensure_peer_venv
from bench.stats import summary
from bench.workloads import CACHE, FPS, clip, image
from service.backends.cpu import int8_dot_product
from tools.procfs import cpu_model

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INTERVAL = 0.5


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = cpu_model()
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "service", "bench"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    pkgs = ("tensorflow", "opencv-python-headless", "av", "numpy", "fastapi", "uvicorn", "httpx")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": bool(dirty),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "int8_dot_product": int8_dot_product(),  # service/backends/cpu.py: int8 pays only with it
        "memory_gib": round(int(mem) / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {p: version(p) for p in pkgs},
        "load_start": os.getloadavg(),
    }


def clip_bytes(seconds: int, resolution: str) -> tuple[str, Path, bytes]:
    c = clip(seconds, resolution)
    return c.name, c.path, c.path.read_bytes()


def e2e_clips(gw: Gateway, plan: plans.Plan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for interval, clips in ((INTERVAL, plan.sampled), (0.0, plan.dense)):
        for seconds, resolution in clips:
            name, _, data = clip_bytes(seconds, resolution)
            repeats = plans.repeats_for(plan, seconds)
            params = {"sample_interval": interval}
            gw.predict(data, f"{name}.mp4", **params)  # warm-up (first use of this size)
            times, stages, decodes, answer = [], [], [], None
            for _ in range(repeats):
                # The decode floor alternates with the end-to-end runs, so the ratio compares
                # runs that saw the same background load (these machines are shared).
                t0 = time.perf_counter()
                decode_all(data)
                decodes.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                answer = gw.predict(data, f"{name}.mp4", **params)
                times.append(time.perf_counter() - t0)
                stages.append(answer["timing_ms"])
            assert answer is not None
            key = f"{name}@{interval:g}"
            out[key] = {
                "clip": name,
                "interval": interval,
                "seconds": summary(times),
                "decode": summary(decodes),
                "stages_ms": {k: statistics.median(s[k] for s in stages) for k in stages[0]},
                "frames_sampled": answer["media"]["frames_sampled"],
                "frames_with_face": answer["summary"]["frames_with_face"],
                "boxes": {f["index"]: f["face"] for f in answer["frames"]},
            }
            ratio = statistics.median(times) / statistics.median(decodes)
            log(f"e2e {key}: {statistics.median(times):.3f} s = {ratio:.2f} x decode")
    return out


def e2e_images(gw: Gateway, plan: plans.Plan) -> dict[str, Any]:
    out = {}
    for resolution in plan.images:
        data = image(resolution)
        gw.predict(data, "face.jpg")
        times = []
        for _ in range(plan.image_repeats):
            t0 = time.perf_counter()
            answer = gw.predict(data, "face.jpg")
            times.append(time.perf_counter() - t0)
        out[resolution] = {
            "seconds": summary(times),
            "face": answer["frames"][0]["face"] is not None,
            "stages_ms": answer["timing_ms"],
        }
        log(f"image {resolution}: {statistics.median(times) * 1000:.1f} ms")
    return out


def concurrency(gw: Gateway, plan: plans.Plan) -> dict[str, Any]:
    """Throughput of 1 and of 4 concurrent image clients (each with its own connection)."""
    import httpx

    data = image("480p")
    n = plan.concurrency_requests

    def client(count: int) -> None:
        with httpx.Client(timeout=120.0) as c:
            for _ in range(count):
                r = c.post(f"{gw.url}/v1/predict", files={"file": ("f.jpg", data, "image/jpeg")})
                r.raise_for_status()

    runs: dict[int, list[float]] = {1: [], 4: []}
    for _ in range(3):  # alternate, so both see the same background load
        for clients in (1, 4):
            with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                t0 = time.perf_counter()
                list(pool.map(client, [n // clients] * clients))
                runs[clients].append(n / (time.perf_counter() - t0))
    out: dict[str, Any] = {str(k): summary(v) for k, v in runs.items()}
    out["ratio"] = statistics.median(runs[4]) / statistics.median(runs[1])
    log(f"concurrency: 4 clients = {out['ratio']:.2f} x 1 client")
    return out


def memory(repo: Path, plan: plans.Plan) -> dict[str, Any]:
    """A fresh gateway: RSS after warm-up, then the peak during one long clip (0.5 s, dense)."""
    name, _, data = clip_bytes(*plan.memory_clip)
    out: dict[str, Any] = {"clip": name, "upload_bytes": len(data)}
    with gateway(repo) as gw:
        gw.predict(image("480p"), "face.jpg")
        gw.predict(clip_bytes(5, "1080p")[2], "warm.mp4")
        for interval in (INTERVAL, 0.0):
            before = gw.rss()
            reset = gw.reset_peak()
            t0 = time.perf_counter()
            answer = gw.predict(data, f"{name}.mp4", sample_interval=interval)
            seconds = time.perf_counter() - t0
            peak = gw.peak()
            out[f"{interval:g}"] = {
                "rss_before": before,
                "peak": peak,
                "rise": peak - before,
                "peak_reset": reset,
                "seconds": seconds,
                "frames_sampled": answer["media"]["frames_sampled"],
            }
            log(f"memory {name}@{interval:g}: +{(peak - before) / 2**20:.0f} MiB")
    return out


def floors(repo: Path, plan: plans.Plan) -> dict[str, Any]:
    model, run_model = measure.load_model(repo, "micro-cnn")
    out: dict[str, Any] = {}
    for interval, clips in ((INTERVAL, plan.sampled), (0.0, plan.dense)):
        for seconds, resolution in clips:
            name, _, data = clip_bytes(seconds, resolution)
            repeats = plans.repeats_for(plan, seconds)
            entry = out.setdefault(name, {})
            if interval == 0 and "grey_swscale" not in entry:
                entry.update(measure.grey_floors(data, repeats))
            naive = (seconds, resolution) in plan.naive_detect and (interval > 0 or seconds <= 5)
            entry[f"detect@{interval:g}"] = measure.detect_floor(
                data, interval, model, run_model, naive=naive, repeats=min(repeats, 3)
            )
            log(f"floors {name}@{interval:g} done")
    return out


def ablations(repo: Path, plan: plans.Plan) -> dict[str, Any]:
    from service.backends.embedded import EmbeddedBackend

    model, _ = measure.load_model(repo, "micro-cnn")
    backend = EmbeddedBackend()
    out: dict[str, Any] = {"pipeline": {}}
    # Every frame: the first 60 (the 'before' pipeline takes ~0.3 s per frame here).
    for seconds, resolution, interval, cap in ((5, "720p", INTERVAL, 10), (5, "480p", 0.0, 60)):
        name, _, data = clip_bytes(seconds, resolution)
        out["pipeline"][f"{name}@{interval:g} ({cap} frames)"] = measure.pipeline_ablation(
            data, model, backend, interval, 3, cap
        )
        log(f"ablation {name}@{interval:g} done")
    out["microbatch"] = measure.microbatch_ablation(model, clients=4, requests=200)
    return out


def peer(plan: plans.Plan) -> dict[str, Any]:
    every = round(INTERVAL * FPS)
    jobs = [
        {"name": clip(s, r).name, "path": str(clip(s, r).path), "frequency": every}
        for s, r in plan.peer_sampled
    ] + [
        {"name": clip(s, r).name, "path": str(clip(s, r).path), "frequency": 1}
        for s, r in plan.peer_dense
    ]
    return run_peer(jobs, 2 if plan.quick else 3, [clip(s, r).name for s, r in plan.peer_sampled])


def run_peer(jobs: list[dict[str, Any]], repeats: int, agreement: list[str]) -> dict[str, Any]:
    python = ensure_peer_venv()
    job = {"clips": jobs, "repeats": repeats, "agreement": agreement}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""}
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "peer_fer.py")],
        input=json.dumps(job), capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"fer failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def archs(plan: plans.Plan) -> dict[str, Any]:
    """Each architecture's shipped micro model if there is one, else an untrained export."""
    cache = CACHE / "arch_repository"
    out = {}
    for arch in plan.archs:
        name = f"micro-{arch}"
        if has_models(SHIPPED, (name,)):
            root, source = SHIPPED, "shipped"
        else:
            root, source = cache, "untrained"
            if not has_models(cache, (name,)):
                log(f"exporting untrained {name} for the architecture table")
                untrained_export(cache, "micro", arch)
        from model_artifact import ModelRepository

        mv = ModelRepository(root).load(name)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        done = subprocess.run(
            [sys.executable, "-m", "bench.archs", str(mv.path), "10" if plan.quick else "20"],
            cwd=ROOT, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{name}: {done.stderr[-2000:]}")
        out[arch] = {**json.loads(done.stdout.strip().splitlines()[-1]), "source": source}
        log(f"arch {arch}: {out[arch]['latency']['31']['median'] * 1000:.1f} ms / 31 crops")
    return out


def recorded(repo: Path, quick: bool) -> dict[str, Any] | None:
    """The real clips (bench/real.py); None without ../shared/data/video."""
    if not real.available():
        log(f"no recorded clips at {real.VIDEO}: the real-footage part is skipped")
        return None
    out: dict[str, Any] = {"clips": {c: real.clip_info(c) for c in real.CLIPS}}
    with gateway(repo) as gw:
        out["e2e"] = real.e2e(gw, 3 if quick else 5)
        out["stored"] = stored.stored(gw, 3 if quick else 5)
        out["concurrency"] = real.concurrency(gw, 8 if quick else 16)
    out["structure"] = real.structure(repo, 3)
    model, run_model = measure.load_model(repo, "micro-cnn")
    run_float = measure.load_model(repo, "micro-cnn", "tflite")[1]
    out["detection"] = real.detection(model=model, run_model=run_model, run_float=run_float)
    sheet = (CACHE if quick else DOCS / "images") / "haar-unconfirmed.jpg"
    out["haar_unconfirmed_sheet"] = real.unconfirmed_sheet(out["detection"], sheet)
    log(f"{out['haar_unconfirmed_sheet']} unconfirmed Haar faces drawn in {sheet}")
    out["face_sets"] = real.face_sets(40 if quick else 120)
    out["peer"] = run_peer(real.peer_jobs(), 2 if quick else 3, [])
    return out


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def main() -> int:
    import cv2

    cv2.setNumThreads(1)  # as the gateway's Pipeline does: the floors time the same detector
    quick = _flag("BENCH_QUICK")
    plan = plans.QUICK if quick else plans.FULL
    started = time.perf_counter()
    results: dict[str, Any] = {"plan": "quick" if quick else "full", "machine": machine()}
    repo, source = repository()
    results["models"] = {"repository": str(repo.relative_to(ROOT)), "source": source}
    log(f"plan={results['plan']} models={source} ({repo})")
    if _flag("BENCH_REAL_ONLY"):
        results["plan"] += ", recorded clips only"
        results["real"] = recorded(repo, quick)
        results["machine"]["load_end"] = os.getloadavg()
        results["wall_s"] = time.perf_counter() - started
        results["targets"] = report.real_targets(results["real"])
        out_json, out_md = DOCS / "benchmarks-real.json", DOCS / "benchmarks-real.md"
        if quick:
            out_json, out_md = CACHE / "benchmarks-real.json", CACHE / "benchmarks-real.md"
        out_json.write_text(json.dumps(report.jsonable(results), indent=1) + "\n")
        report.write_real(results, out_md)
        log(f"wrote {out_md} and {out_json} in {results['wall_s'] / 60:.1f} min")
        return 0
    results["clips"] = {}
    for s, r in sorted({*plan.sampled, *plan.dense, plan.memory_clip, (5, "1080p")}):
        c = clip(s, r)  # encode once, outside every timing
        results["clips"][c.name] = {"bytes": c.path.stat().st_size, "kbps": c.kbps}
    results["floors"] = floors(repo, plan)
    with gateway(repo) as gw:
        results["gateway_rss_idle"] = gw.rss()
        results["e2e"] = e2e_clips(gw, plan)
        results["images"] = e2e_images(gw, plan)
        results["concurrency"] = concurrency(gw, plan)
    results["memory"] = memory(repo, plan)
    results["ablations"] = ablations(repo, plan)
    results["peer"] = peer(plan)
    results["archs"] = archs(plan)
    results["real"] = recorded(repo, quick)
    results["tracker_text"] = report.tracker_text()
    results["machine"]["load_end"] = os.getloadavg()
    results["wall_s"] = time.perf_counter() - started
    results["targets"] = report.targets(results)
    out_json = DOCS / "benchmarks.json"
    out_md = DOCS / "benchmarks.md"
    if quick:  # development runs never overwrite the committed results
        out_json, out_md = CACHE / "benchmarks.json", CACHE / "benchmarks.md"
    out_json.write_text(json.dumps(report.jsonable(results), indent=1) + "\n")
    report.write(results, out_md)
    log(f"wrote {out_md} and {out_json} in {results['wall_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
