"""The spotting report: every figure docs/spotting.md quotes, regenerated in one command.

``python -m training.spot_report --bench seed0=DIR --bench seed1=DIR [--masked NAME=DIR]
[--real DIR] --out build/spot/report`` runs ``spot-eval`` (the service pipeline in-process on
every frame, the committed thresholds ``service/spotting/params.json``) on each labelled
PROXY test folder with the micro model, on each masked PROXY folder with the masked model, and
on the real clips without ground truth; writes ``report.json`` (everything, with every real
clip's events in full) and ``report.md`` (the tables). Intervals: a bootstrap over clips
(``BOOTSTRAP`` resamples, seeded); spread: the benchmark seeds' figures side by side.
Nothing here fits anything: fit first (``training.spot_fit ... --write``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np

from training.spot_eval import evaluate_folder

BOOTSTRAP = 5000


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def figures(rows: list[dict[str, Any]], seed: int = 0, n: int = BOOTSTRAP) -> dict[str, Any]:
    """Pooled F1, precision, recall, label accuracy and micro recall of labelled clip rows
    (``spot_eval.score``'s), each with a 95 % bootstrap interval over the clips."""
    labelled = [r for r in rows if "tp" in r]
    if not labelled:
        return {}
    cols = ("tp", "spotted", "true", "label_ok", "micro_tp", "micro_true")
    x = np.array([[r[c] for c in cols] for r in labelled], np.float64)  # [clips, 6]
    pick = np.random.default_rng(seed).integers(0, len(x), (n, len(x)))
    sums = np.concatenate([x.sum(axis=0, keepdims=True), x[pick].sum(axis=1)])  # row 0: all

    def stats(s: np.ndarray) -> dict[str, np.ndarray]:
        tp, spotted, true, ok, mtp, mtrue = s.T
        p, r = _ratio(tp, spotted), _ratio(tp, true)
        f1 = _ratio(2 * tp, spotted + true)
        return {"precision": p, "recall": r, "f1": f1, "label_accuracy": _ratio(ok, tp),
                "micro_recall": _ratio(mtp, mtrue)}  # fmt: skip

    out: dict[str, Any] = {"clips": len(x), "tp": int(x[:, 0].sum()),
                           "fp": int(x[:, 1].sum() - x[:, 0].sum()),
                           "fn": int(x[:, 2].sum() - x[:, 0].sum())}  # fmt: skip
    for name, v in stats(sums).items():
        lo, hi = np.nanpercentile(v[1:], [2.5, 97.5])
        out[name] = {"value": round(float(v[0]), 4), "ci95": [round(lo, 4), round(hi, 4)]}
    return out


def negatives(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The hard-negative clips' false alarms (labelled clips without a true event)."""
    neg = [r for r in rows if r.get("true") == 0]
    if not neg:
        return None
    seconds = sum(r["duration_s"] for r in neg)
    events = sum(r["spotted"] for r in neg)
    return {"clips": len(neg), "seconds": round(seconds, 1), "events": events,
            "events_per_min": round(60 * events / seconds, 2) if seconds else None}  # fmt: skip


def _row(name: str, f: dict[str, Any]) -> str:
    def cell(key: str) -> str:
        v = f[key]
        return f"{v['value']:.3f} [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]"

    return (
        f"| {name} | {f['clips']} | {f['tp']} / {f['fp']} / {f['fn']} | {cell('precision')} | "
        f"{cell('recall')} | **{cell('f1')}** | {cell('label_accuracy')} | "
        f"{cell('micro_recall')} |"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report's tables (PROXY benchmarks, then the real clips' events)."""
    head = (
        "| PROXY set | clips | TP / FP / FN | precision | recall | F1 (IoU >= 0.5) | "
        "label acc. | micro recall |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [f"Thresholds ({m}): `{json.dumps(p)}`" for m, p in report["params"].items()]
    lines += ["", head]
    for name, part in report["benchmarks"].items():
        lines.append(_row(f"{name} ({part['model']})", part["figures"]))
    with_neg = {n: p for n, p in report["benchmarks"].items() if p.get("negatives")}
    if with_neg:
        lines += ["", "Hard negatives (no expression: drawn occluders, blinks, gaze shifts; "
                  "every event is a false alarm), and F1 with them pooled in:", "",
                  "| PROXY set | negative clips | s | false events | per minute | "
                  "F1 with negatives |", "|---|---|---|---|---|---|"]  # fmt: skip
        for name, part in with_neg.items():
            n, f = part["negatives"], part["figures_with_negatives"]["f1"]["value"]
            lines.append(f"| {name} | {n['clips']} | {n['seconds']} | {n['events']} | "
                         f"{n['events_per_min']} | {f:.3f} |")  # fmt: skip
    for kind in ("micro", "masked"):
        f1s = [p["figures"]["f1"]["value"] for p in report["benchmarks"].values()
               if p["kind"] == kind]  # fmt: skip
        if len(f1s) > 1:
            lines += ["", f"{kind} F1 over the {len(f1s)} benchmark seeds: mean "
                      f"{np.mean(f1s):.3f}, range {min(f1s):.3f}-{max(f1s):.3f}"]  # fmt: skip
    real = report.get("real")
    if real:
        un = real["unlabelled"] or {}
        lines += ["", f"Real clips ({real['model']}): {un.get('events', 0)} events in "
                  f"{un.get('seconds', 0)} s ({un.get('events_per_min')} per minute)", "",
                  "| clip | s | kind | label | onset-apex-offset | s | signal/region | dp |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for row in real["clips"]:
            for e in row.get("events", []):
                ev = e["evidence"]
                lines.append(
                    f"| {row['clip']} | {row['duration_s']} | {e['kind']} | {e['label']} | "
                    f"{e['onset_index']}-{e['apex_index']}-{e['offset_index']} | "
                    f"{e['onset_s']:.2f}-{e['offset_s']:.2f} | {ev['signal']}/{ev['region']} | "
                    f"{ev['probability_change']:.2f} |"
                )
    return "\n".join(lines) + "\n"


async def build_report(args: argparse.Namespace) -> dict[str, Any]:
    repo = Path(args.repository)
    report: dict[str, Any] = {"benchmarks": {}}
    sets = [(*b.split("=", 1), args.model, "micro") for b in args.bench]
    sets += [(*b.split("=", 1), args.masked_model, "masked") for b in args.masked]
    for name, folder, model, kind in sets:
        part = await evaluate_folder(Path(folder), repo, model)
        report.setdefault("params", {})[model] = part["params"]
        report["benchmarks"][name] = {
            "kind": kind,
            "folder": folder,
            "model": f"{part['model']['name']} v{part['model']['version']}",
            "figures": figures([r for r in part["clips"] if r.get("true") != 0]),
            "figures_with_negatives": figures(part["clips"]),
            "negatives": negatives(part["clips"]),
            "clips": part["clips"],
        }
    if args.real:
        for model in (args.model, args.masked_model):
            part = await evaluate_folder(Path(args.real), repo, model)
            report.setdefault("params", {})[model] = part["params"]
            key = "real" if model == args.model else "real_masked"
            report[key] = {**part, "model": f"{part['model']['name']} v{part['model']['version']}"}
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.spot_report", description=__doc__)
    p.add_argument("--bench", action="append", default=[], metavar="NAME=DIR",
                   help="a labelled PROXY test folder (repeat per benchmark seed)")  # fmt: skip
    p.add_argument("--masked", action="append", default=[], metavar="NAME=DIR",
                   help="a masked PROXY test folder (one per seed)")  # fmt: skip
    p.add_argument("--real", help="real clips without ground truth (events per minute)")
    p.add_argument("--repository", default="model_repository")
    p.add_argument("--model", default="micro-cnn")
    p.add_argument("--masked-model", default="masked-cnn")
    p.add_argument("--out", type=Path, default=Path("build/spot/report"))
    args = p.parse_args(argv)
    report = asyncio.run(build_report(args))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report)
    (args.out / "report.md").write_text(text)
    print(text)
    print(f"wrote {args.out}/report.json and report.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
