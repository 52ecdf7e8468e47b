"""``python -m training spot-eval DIR``: score expression spotting on a folder of clips.

``DIR`` holds ``<name>.mp4`` (or .mov/.avi/.mkv/.webm) and, for clips with ground truth,
``<name>.json`` = ``{"fps": 30, "frames": N, "events": [{"onset_frame", "apex_frame",
"offset_frame", "label", "kind"}]}`` (inclusive frame numbers). Every clip runs through the
service pipeline in-process on every frame (``sample_interval=0``) with the spotter as its
``Analysis``, exactly as ``/v1/predict`` runs it. Scored with MEGC's rule
(``training.spot_match``): TP/FP/FN pooled over the clips with ground truth, precision,
recall, F1, per kind, label accuracy of the matched events; clips without ground truth give
spotted events per minute (false-alarm rate, when they show no expression).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from training.spot_match import Interval, Tally

if TYPE_CHECKING:
    from service.media import MediaInfo
    from service.pipeline import Analysis, FrameRecord
    from service.schemas import Event, PredictResponse
    from service.spotting import SpotParams

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")


def clips(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def truth_of(video: Path) -> list[Interval] | None:
    """The clip's true events, or None when it has no ``<name>.json``."""
    path = video.with_suffix(".json")
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    return [
        Interval(e["onset_frame"], e["offset_frame"], e.get("label"), e.get("kind"))
        for e in doc["events"]
    ]


def as_intervals(events: Sequence[Event]) -> list[Interval]:
    """API events (``service.schemas.Event``) as frame intervals."""
    return [Interval(e.onset_index, e.offset_index, e.label, e.kind) for e in events]


class Runner:
    """The service pipeline in-process (embedded TensorFlow) for one model version; a
    masked model goes through the gateway's smile gate (``service.gate``; default the
    gateway's default gate model) as in the gateway, unless ``smile_gate`` is ""."""

    def __init__(
        self,
        repository: Path,
        model: str,
        version: int | None = None,
        smile_gate: str | None = None,
    ) -> None:
        from model_artifact import ModelRepository
        from service.gate import smile_gates
        from service.settings import SMILE_GATE_MODEL

        repo = ModelRepository(repository)
        self.model = repo.load(model, version)
        self.gates = smile_gates(repo.load, SMILE_GATE_MODEL if smile_gate is None else smile_gate)

    async def __aenter__(self) -> Runner:
        from service.backends.embedded import EmbeddedBackend
        from service.faces import FaceDetector
        from service.media import MediaLimits
        from service.metrics import Metrics
        from service.pipeline import Pipeline

        self.backend = EmbeddedBackend()
        gate = self.gates(self.model)
        await self.backend.start([self.model] + ([gate.model] if gate is not None else []))
        limits = MediaLimits(max_frames=10**6, max_video_s=4 * 3600)
        self.pipeline = Pipeline(self.backend, FaceDetector(), limits, Metrics(), gates=self.gates)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.backend.close()

    async def records(
        self, video: Path, analysis: Analysis | None
    ) -> tuple[list[FrameRecord], MediaInfo | None]:
        """Every frame's FrameRecord (probabilities and the analysis' features) and MediaInfo."""
        from contextlib import aclosing

        from service.pipeline import PredictOptions

        options = PredictOptions(sample_interval=0, max_frames=10**6)
        with video.open("rb") as f:
            stream = self.pipeline.stream(f, self.model, options, analysis)
            async with aclosing(stream):
                out = [r async for r in stream]
        return out, stream.info

    async def predict(self, video: Path, analysis: Analysis | None) -> PredictResponse:
        from service.pipeline import PredictOptions

        options = PredictOptions(sample_interval=0, max_frames=10**6)
        with video.open("rb") as f:
            return await self.pipeline.run(f, self.model, options, analysis)


def score(
    results: list[tuple[str, list[Interval] | None, list[Interval], float]],
) -> dict[str, Any]:
    """Report over (name, truth or None, spotted, duration_s) per clip."""
    tally = Tally()
    clips_out = []
    unlabelled_events, unlabelled_s = 0, 0.0
    for name, truth, spotted, duration in results:
        row: dict = {"clip": name, "spotted": len(spotted), "duration_s": round(duration, 3)}
        if truth is None:
            unlabelled_events += len(spotted)
            unlabelled_s += duration
            row["events_per_min"] = round(60 * len(spotted) / duration, 2) if duration else None
        else:
            pairs = tally.add(truth, spotted)
            agree = sum(truth[i].label == spotted[j].label for i, j in pairs)
            row.update(true=len(truth), tp=len(pairs), label_ok=agree)
            row.update(
                micro_true=sum(t.kind == "micro" for t in truth),
                micro_tp=sum(truth[i].kind == "micro" for i, _ in pairs),
            )
        clips_out.append(row)
    out: dict[str, Any] = {
        "rule": "MEGC: TP when IoU >= 0.5, one match per true event, counts pooled"
    }
    out["labelled"] = tally.report() if any(t is not None for _, t, _, _ in results) else None
    out["unlabelled"] = (
        {
            "clips": sum(t is None for _, t, _, _ in results),
            "seconds": round(unlabelled_s, 2),
            "events": unlabelled_events,
            "events_per_min": round(60 * unlabelled_events / unlabelled_s, 2)
            if unlabelled_s
            else None,
        }
        if unlabelled_s
        else None
    )
    out["clips"] = clips_out
    return out


def duration_of(records: Sequence[FrameRecord]) -> float:
    if not records:
        return 0.0
    ts = np.array([r.timestamp_s for r in records])
    period = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
    return float(ts[-1] - ts[0] + period)


async def evaluate_folder(
    folder: Path,
    repository: Path,
    model: str,
    version: int | None = None,
    params: SpotParams | None = None,
) -> dict[str, Any]:
    """Run every clip of ``folder`` through the pipeline with the spotter; the report."""
    from service.spotting import Spotter

    spotter = Spotter(params)
    results = []
    listed: dict[str, list[dict]] = {}  # the events of clips without ground truth, in full
    async with Runner(repository, model, version) as runner:
        for video in clips(folder):
            response = await runner.predict(video, spotter)
            duration = response.media.duration_s or 0.0
            truth = truth_of(video)
            results.append((video.name, truth, as_intervals(response.events or []), duration))
            if truth is None:
                listed[video.name] = [e.model_dump() for e in response.events or []]
    report = score(results)
    for row in report["clips"]:
        if row["clip"] in listed:
            row["events"] = listed[row["clip"]]
    report["model"] = {"name": runner.model.name, "version": runner.model.version}
    report["params"] = asdict(spotter.params_for(runner.model.name))
    return report


def render(report: dict) -> str:
    """A short text summary of ``report``."""
    lines = []
    lab = report.get("labelled")
    if lab:

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        lines.append(
            f"pooled: TP {lab['tp']} FP {lab['fp']} FN {lab['fn']}  precision {f(lab['precision'])}"
            f"  recall {f(lab['recall'])}  F1 {f(lab['f1'])}  label accuracy "
            f"{f(lab['label_accuracy'])}"
        )
        for kind, k in lab["per_kind"].items():
            lines.append(
                f"  {kind:5s}: true {k['true']:4d} spotted {k['spotted']:4d}  precision "
                f"{f(k['precision'])}  recall {f(k['recall'])}  F1 {f(k['f1'])}"
            )
    un = report.get("unlabelled")
    if un:
        lines.append(
            f"no ground truth: {un['clips']} clip(s), {un['seconds']} s, {un['events']} events "
            f"({un['events_per_min']} per minute)"
        )
        for row in report["clips"]:
            if "events_per_min" in row:
                lines.append(f"  {row['clip']}: {row['spotted']} ({row['events_per_min']}/min)")
    return "\n".join(lines)


def cmd_spot_eval(args: argparse.Namespace) -> int:
    report = asyncio.run(
        evaluate_folder(Path(args.dir), Path(args.repository), args.model, args.version)
    )
    print(render(report))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("spot-eval", help="score expression spotting (MEGC rule) on a clip folder")
    p.add_argument("dir", help="folder of <name>.mp4 (+ <name>.json ground truth)")
    p.add_argument("--repository", default="model_repository")
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--version", type=int)
    p.add_argument("--out", help="write the full JSON report here")
