"""Fit the spotter's thresholds on the development part of a spotting benchmark.

``python -m training.spot_fit DEV_DIR [--model M] [--write service/spotting/params.json]``
runs every clip through the service pipeline once with the model's default version (every
frame, the spotter's features), keeps the per-frame records (cached as ``.npz`` per model
version), then searches a grid of ``SpotParams`` for the best pooled F1 (MEGC rule) over the dev
clips, hard negatives included (``tools.spot_bench --negatives``: every event on them is a
false positive), ties going to label accuracy, then to the stricter rules. The records are
the pipeline's own, so the fitted spotter is the one ``/v1/predict`` runs; only ``finish`` is
repeated per signal and peak setting, and the rejection rules (``spotter.verdict``) filter
its candidate events per rule setting. ``--write`` stores the best setting, with what it was
fitted on, in the thresholds file the service reads (``service.spotting.params``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from training.spot_eval import Runner, clips, truth_of
from training.spot_match import Interval, Tally

if TYPE_CHECKING:
    from service.faces import FaceBox
    from service.spotting.spotter import RuleEvidence, SpotParams, SpotRecord

Clip = tuple[Sequence["SpotRecord"], list[Interval]]  # a clip's records and its true events
Grid = dict[str, list[Any]]  # SpotParams field -> values to try (float or int fields)


@dataclass
class Record:
    """A cached FrameRecord (the fields ``finish`` reads)."""

    index: int
    timestamp_s: float
    box: object | None
    probs: np.ndarray | None
    features: np.ndarray | None


def _uncached(folder: Path, cache: Path) -> list[Path]:
    """The clips of ``folder`` with no ``cache/<clip>.npz`` yet (the cache folder is made)."""
    cache.mkdir(parents=True, exist_ok=True)
    return [v for v in clips(folder) if not (cache / f"{v.stem}.npz").exists()]


async def cache_records(
    folder: Path, cache: Path, repository: Path, model: str, version: int | None = None
) -> None:
    """``cache/<clip>.npz`` with every frame's index, time, face flag, probs and features."""
    from service.spotting import Spotter

    todo = _uncached(folder, cache)
    if not todo:
        return
    async with Runner(repository, model, version) as runner:
        for video in todo:
            records, _ = await runner.records(video, Spotter())
            has = np.array([r.probs is not None and r.features is not None for r in records])
            probe = Spotter().features(*_probe())
            assert probe is not None  # the probe has a face box
            k, d = len(runner.model.card.classes), len(probe)
            np.savez(
                cache / f"{video.stem}.npz",
                index=np.array([r.index for r in records]),
                ts=np.array([r.timestamp_s for r in records]),
                has=has,
                probs=_rows([r.probs for r in records], has, k),
                feats=_rows([r.features for r in records], has, d),
                boxes=np.array(
                    [
                        (b.x, b.y, b.w, b.h, b.score) if (b := r.box) else (0, 0, 0, 0, 0.0)
                        for r in records
                    ],
                    np.float64,
                ),
            )
            print(f"cached {video.name}: {len(records)} frames, {int(has.sum())} with a face")


def _rows(values: list[np.ndarray | None], has: np.ndarray, width: int) -> np.ndarray:
    """``values`` stacked, a float32 zero vector of ``width`` in the rows ``has`` leaves out."""
    zero = np.zeros(width, np.float32)
    return np.stack([v if h and v is not None else zero for v, h in zip(values, has, strict=True)])


def _probe() -> tuple[np.ndarray, FaceBox]:
    from service.faces import FaceBox

    return np.zeros((64, 64), np.uint8), FaceBox(0, 0, 64, 64, 1.0)


def load_records(path: Path) -> list[Record]:
    from service.faces import FaceBox

    z = np.load(path)
    boxes = z["boxes"] if "boxes" in z else np.zeros((len(z["index"]), 5))
    return [
        Record(
            int(i),
            float(t),
            FaceBox(int(b[0]), int(b[1]), int(b[2]), int(b[3]), float(b[4])) if h else None,
            p if h else None,
            f if h else None,
        )
        for i, t, h, p, f, b in zip(
            z["index"], z["ts"], z["has"], z["probs"], z["feats"], boxes, strict=True
        )
    ]


def evaluate(
    data: list[Clip], classes: list[str], rest: str | None, regions: list[str], params: SpotParams
) -> dict[str, Any]:
    """Pooled report of ``params`` over cached (records, truth) pairs."""
    from service.spotting.spotter import events_of, prepare

    tally = Tally()
    for records, truth in data:
        events = events_of(records, prepare(records, regions, params), classes, rest, params)
        tally.add(truth, [Interval(e.onset_index, e.offset_index, e.label, e.kind) for e in events])
    return tally.report()


# Evidence settings (each needs the signals recomputed), score/peak settings (the candidate
# events) and the rules (filters on the candidates: cheap).
SIGNAL_GRID: Grid = {"smooth_s": [0.07, 0.1, 0.14]}
PEAK_GRID: Grid = {
    "p_scale": [0.4, 0.6, 0.8, 1.0, 1.2],
    "m_scale": [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 1e9],
    "rel_height": [0.1, 0.15, 0.2, 0.3, 0.4],
}
RULE_GRID: Grid = {
    "min_prob_change": [0.0, 0.05, 0.1, 0.15],
    "min_prob_excess": [0.0, 0.1, 0.2, 0.3],
    "min_face_motion": [0.0, 1.3, 1.6, 1.9],
    "min_contrast": [0.0, 0.5, 0.65],
}
# Ties (same F1 and label accuracy) go to the stricter rules, in this order.
STRICT = ("min_prob_change", "min_prob_excess", "min_face_motion", "min_contrast")
Candidates = list[tuple[list[Interval], list[tuple[Interval, "RuleEvidence"]]]]


def _candidates(prepared: list, classes: list[str], rest: str | None, params: SpotParams
                ) -> Candidates:  # fmt: skip
    """Per clip: its truth and every candidate event (before the rules) with its evidence."""
    from service.spotting.spotter import candidates, rule_evidence

    out: Candidates = []
    for records, runs, truth in prepared:
        found = candidates(records, runs, classes, rest, params)
        out.append((truth, [
            (Interval(e.onset_index, e.offset_index, e.label, e.kind), rule_evidence(r.signals, s))
            for r, s, e in found
        ]))  # fmt: skip
    return out


def _tally(cands: Candidates, params: SpotParams) -> dict[str, Any]:
    from service.spotting.spotter import verdict

    tally = Tally()
    for truth, found in cands:
        tally.add(truth, [i for i, ev in found if verdict(ev, params) is None])
    return tally.report()


def fit(
    data: list[Clip],
    classes: list[str],
    rest: str | None,
    regions: list[str],
    signal_grid: Grid | None = None,
    peak_grid: Grid | None = None,
    rule_grid: Grid | None = None,
) -> tuple[SpotParams, dict[str, Any], list[tuple[float, float, SpotParams, dict[str, Any]]]]:
    """The best params of the grids by (F1, label accuracy, then the stricter rules);
    returns (params, report, table)."""
    from service.spotting.spotter import SpotParams, prepare

    signal_grid = signal_grid or SIGNAL_GRID
    peak_grid = peak_grid or PEAK_GRID
    rule_grid = RULE_GRID if rule_grid is None else rule_grid
    table = []
    for sv in itertools.product(*signal_grid.values()):
        base = replace(SpotParams(), **dict(zip(signal_grid, sv, strict=True)))
        prepared = [(r, prepare(r, regions, base), t) for r, t in data]
        for pv in itertools.product(*peak_grid.values()):
            peak = replace(base, **dict(zip(peak_grid, pv, strict=True)))
            cands = _candidates(prepared, classes, rest, peak)
            for rv in itertools.product(*rule_grid.values()):
                params = replace(peak, **dict(zip(rule_grid, rv, strict=True)))
                rep = _tally(cands, params)
                table.append((rep["f1"] or 0.0, rep["label_accuracy"] or 0.0, params, rep))
    table.sort(
        key=lambda r: (r[0], r[1], *(getattr(r[2], k) for k in STRICT if k in rule_grid)),
        reverse=True,
    )
    best = table[0]
    return best[2], best[3], table


def _benchmark_summary(path: Path) -> dict[str, Any] | None:
    """The seeds and dev subjects of the benchmark the dev folder belongs to."""
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    keep = ("seed", "split_seed", "masked")
    return {**{k: doc.get(k) for k in keep}, "dev_subjects": (doc.get("dev") or {}).get("subjects")}


def params_entry(
    params: SpotParams, report: dict[str, Any], table: list, fitted_on: dict[str, Any]
) -> dict[str, Any]:
    """One model's entry of the thresholds file: the params, what they were fitted on, the
    dev figures and the top grid rows."""
    keys = list({**SIGNAL_GRID, **PEAK_GRID, **RULE_GRID})
    top = [
        {"f1": round(f1, 4), "label_accuracy": round(a, 4), **{k: getattr(q, k) for k in keys}}
        for f1, a, q, _ in table[:10]
    ]
    grid = {**SIGNAL_GRID, **PEAK_GRID, **RULE_GRID}
    return {
        "params": asdict(params),
        "fitted": {**fitted_on, "grid": grid, "dev_report": report, "top": top},
    }


def write_entry(path: Path, model: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Put ``model``'s entry into the thresholds file at ``path`` (other models' kept; the
    first model written becomes the default)."""
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc.setdefault(
        "about",
        "Spotting thresholds per model, fitted by training.spot_fit on PROXY benchmarks' dev "
        "parts (docs/spotting.md); read by service.spotting.params.",
    )
    doc.setdefault("models", {})[model] = entry
    if doc.get("default") not in doc["models"]:
        doc["default"] = model
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.spot_fit", description=__doc__)
    p.add_argument("dev", type=Path)
    p.add_argument("--cache", type=Path, help="record cache (default DEV/.records-<model>-v<N>"
                   "[-gate-<gate model>-v<M>])")  # fmt: skip
    p.add_argument("--repository", type=Path, default=Path("model_repository"))
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--write", type=Path, help="write the thresholds file here (the service's: "
                   "service/spotting/params.json)")  # fmt: skip
    args = p.parse_args(argv)
    from model_artifact import ModelRepository
    from service.gate import smile_gates
    from service.settings import SMILE_GATE_MODEL
    from service.spotting.regions import REGIONS, UPPER_REGIONS

    repo = ModelRepository(args.repository)
    mv = repo.load(args.model)
    card = mv.card
    gate = smile_gates(repo.load, SMILE_GATE_MODEL)(mv)  # as Runner and the gateway gate it
    gated = f"-gate-{gate.model.name}-v{gate.model.version}" if gate is not None else ""
    cache = args.cache or args.dev / f".records-{args.model}-v{mv.version}{gated}"
    asyncio.run(cache_records(args.dev, cache, args.repository, args.model, mv.version))
    regions = list(UPPER_REGIONS) if card.face_region == "upper" else list(REGIONS)
    data: list[Clip] = [
        (load_records(cache / f"{v.stem}.npz"), truth)
        for v in clips(args.dev)
        if (truth := truth_of(v)) is not None
    ]
    params, report, table = fit(data, list(card.classes), getattr(card, "rest_class", None),
                                regions)  # fmt: skip
    names = [f.name for f in fields(params)]
    print("best:", {n: getattr(params, n) for n in names})
    print(json.dumps({k: v for k, v in report.items() if k != "per_kind"}), report["per_kind"])
    for f1, acc, prm, _ in table[:10]:
        print(
            f"F1 {f1:.3f} acc {acc:.3f}",
            {k: getattr(prm, k) for k in {**SIGNAL_GRID, **PEAK_GRID, **RULE_GRID}},
        )
    if args.write:
        bench = args.dev.parent / "benchmark.json"
        fitted_on = {
            "model": {"name": mv.name, "version": mv.version},
            "smile_gate": gate.ref().model_dump() if gate is not None else None,
            "dev": str(args.dev),
            "dev_clips": len(data),
            "benchmark": _benchmark_summary(bench),
            "command": "python -m training.spot_fit " + " ".join(argv or sys.argv[1:]),
        }
        write_entry(args.write, mv.name, params_entry(params, report, table, fitted_on))
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
