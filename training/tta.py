"""Test-time augmentation (TTA) of saved micro runs: ``python -m training tta-eval``.

The same network answers on mirrored (and shifted) copies of each face crop and the answers
are averaged. Views are made on the uint8 model input (the crop ``model_artifact.face_input``
makes, as serving does), so a view is exactly what the serving signature would be fed.

Measured per saved run (``runs/<dir>`` with ``run.json`` + ``model.keras``), on its seeded
validation split of the *training* data (what a choice is made on) and on its held-out sets
(reported only): the model as is, flip TTA averaging the calibrated probabilities or the
calibrated logits (the temperature and rest offset were fitted without TTA), the same with the
run's calibration refitted on the TTA outputs of its validation split exactly as training does
(``pipeline._calibrate``), flip + small shifts, and an ensemble of the runs' networks (images
held out by every run only; a reference figure with no spread over seeds). Writes
``docs/results/tta.json``; ``python -m training card`` renders it into the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training.results import mean_sd

log = logging.getLogger(__name__)

Predict = Callable[[np.ndarray], np.ndarray]  # uint8 [N, H, W, 1] -> probabilities [N, K]
SHIFT_PX = 2
# The decision rule, fixed before any held-out figure was looked at.
RULE = (
    "Flip TTA is worth shipping only if, on the validation split of the training data, it "
    "raises the FER+ 5-expression macro-F1 (arg-max over all classes) and the CK+ accuracy "
    "(both strictly, each against the same seed's model as is) for at least 2 of the 3 seeds, "
    "without lowering that seed's FER+ neutral rate below 0.85. Applied to each flip variant; "
    "if several pass, the candidate is the one with the highest mean validation FER+ "
    "5-expression macro-F1. Flip + shift views are considered only if a flip variant passes."
)
MIN_SEEDS = 2
MIN_NEUTRAL_RATE = 0.85
FEW_IMAGES = 30  # an ensemble figure on fewer held-out images is flagged as unreadable
# name -> (views, average "prob" | "logit", refit the calibration on the TTA outputs)
VARIANTS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "as is": (("id",), "prob", False),
    "flip, mean prob": (("id", "flip"), "prob", False),
    "flip, mean logit": (("id", "flip"), "logit", False),
    "flip, mean prob, refit": (("id", "flip"), "prob", True),
    "flip, mean logit, refit": (("id", "flip"), "logit", True),
    "flip+shift, mean prob, refit": (("id", "flip", "up", "down", "left", "right"), "prob", True),
}
BASELINE = "as is"
FLIP_VARIANTS = tuple(k for k, v in VARIANTS.items() if v[0] == ("id", "flip"))


def hflip(images: np.ndarray) -> np.ndarray:
    """Mirror images ``[N, H, W]`` or ``[N, H, W, C]`` left-right."""
    return images[:, :, ::-1]


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Content moved ``dy`` px down and ``dx`` px right; the border edge-replicated (as
    ``face_input`` fills a box that leaves the frame)."""
    pad = max(abs(dy), abs(dx))
    if pad == 0:
        return images
    widths = [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, widths, mode="edge")
    h, w = images.shape[1:3]
    return padded[:, pad - dy : pad - dy + h, pad - dx : pad - dx + w]


VIEWS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "id": lambda x: x,
    "flip": hflip,
    "up": lambda x: shift(x, -SHIFT_PX, 0),
    "down": lambda x: shift(x, SHIFT_PX, 0),
    "left": lambda x: shift(x, 0, -SHIFT_PX),
    "right": lambda x: shift(x, 0, SHIFT_PX),
}


def average(probs: Sequence[np.ndarray], mode: str = "prob") -> np.ndarray:
    """Mean of the views' probabilities (``prob``) or softmax of their mean log-probability
    (``logit``: the same as averaging the logits, softmax being shift-invariant per row)."""
    if mode == "prob":
        return np.mean(np.stack(probs), axis=0)
    if mode != "logit":
        raise ValueError(f"unknown TTA average {mode!r}")
    z = np.mean(np.stack([np.log(np.clip(p, 1e-7, 1.0)) for p in probs]), axis=0)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def tta_predict(
    predict: Predict, images: np.ndarray, views: Sequence[str] = ("id", "flip"), mode: str = "prob"
) -> np.ndarray:
    """``predict`` on each view of uint8 ``images`` ``[N, H, W(, 1)]``, averaged."""
    x = images if images.ndim == 4 else images[..., None]
    return average([predict(VIEWS[v](x)) for v in views], mode)


def keras_predict(model: Any, batch_size: int = 256) -> Predict:
    """A Keras model (raw pixels 0..255 in, probabilities out) as a :data:`Predict`."""
    from training.evaluate import predict_probs

    return lambda x: predict_probs(model, x, batch_size)


@dataclass
class RunViews:
    """One run's base-network probabilities per view on its validation and held-out images."""

    run: str
    seed: int
    config: Any
    temperature: float
    bias: list[float] | None
    val_index: np.ndarray
    test_index: np.ndarray
    val: dict[str, np.ndarray] = field(default_factory=dict)
    test: dict[str, np.ndarray] = field(default_factory=dict)


def _dataset(config: Any, classes: list[str], cache: dict) -> Any:
    """The run's data, loaded once for runs that read it alike (the seeds of one recipe)."""
    from training import pipeline

    fields = ["data", "task", "input_size", "face_region", "subject_regex", "class_map"]
    fields += ["class_maps", "skip_folders", "split"]
    key = json.dumps([getattr(config, f) for f in fields] + [classes])
    if key not in cache:
        cache[key] = pipeline.load(config, classes=classes)
    return cache[key]


def run_views(run_dir: Path, views: Sequence[str], cache: dict) -> tuple[RunViews, Any]:
    """Load a saved run, rebuild its seeded splits (checked against ``run.json``) and predict
    its base network (the calibration layer removed) on every view."""
    from training import calibration, pipeline

    config, info, model = pipeline.load_run(run_dir)
    ds = _dataset(config, list(info["classes"]), cache)
    train_index, test_index = pipeline.split_by_source(
        ds, config.split, config.test_size, config.seed
    )
    if [str(ds.paths[i]) for i in test_index] != info["test_files"]:
        raise ValueError(f"the data no longer gives {run_dir}'s held-out split")
    _, val_index = pipeline.validation_split(ds, train_index, config)
    if val_index is None:
        raise ValueError(f"{run_dir} has no validation split (trained without calibration)")
    evaluation = info["card"]["evaluation"]
    base = calibration.without_temperature(model)
    rv = RunViews(
        run=str(run_dir),
        seed=config.seed,
        config=config,
        temperature=float(evaluation["temperature"] or 1.0),
        bias=evaluation.get("class_bias"),
        val_index=val_index,
        test_index=test_index,
    )
    predict = keras_predict(base)
    for v in views:
        rv.val[v] = predict(VIEWS[v](ds.images[val_index][..., None]))
        rv.test[v] = predict(VIEWS[v](ds.images[test_index][..., None]))
    shipped = keras_predict(model)(ds.images[val_index][:256][..., None])
    if not np.allclose(shipped, _calibrated(rv, rv.val["id"][:256]), atol=1e-4):
        raise RuntimeError(f"{run_dir}: its calibration layer is not the card's T and offsets")
    log.info("%s: %d validation / %d held-out images", run_dir, len(val_index), len(test_index))
    return rv, ds


def _calibrated(rv: RunViews, probs: np.ndarray) -> np.ndarray:
    from training.calibration import temper

    bias = None if rv.bias is None else np.asarray(rv.bias)
    return temper(probs, rv.temperature, bias)


def variant_probs(
    rv: RunViews, ds: Any, variant: str
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """``(validation probs, held-out probs, calibration)`` of ``variant`` for one run."""
    from training import pipeline
    from training.calibration import temper

    views, mode, refit = VARIANTS[variant]
    if not refit:
        val = average([_calibrated(rv, rv.val[v]) for v in views], mode)
        test = average([_calibrated(rv, rv.test[v]) for v in views], mode)
        return val, test, {"temperature": rv.temperature, "class_bias": rv.bias, "refit": False}
    val_base = average([rv.val[v] for v in views], mode)
    test_base = average([rv.test[v] for v in views], mode)
    t, bias = pipeline._calibrate(rv.config, ds, val_base, ds.labels[rv.val_index])
    b = None if bias is None else np.asarray(bias)
    calib = {"temperature": t, "class_bias": bias, "refit": True}
    return temper(val_base, t, b), temper(test_base, t, b), calib


def _rest(rv: RunViews, ds: Any) -> str | None:
    from model_artifact import REST_CLASS

    rest = REST_CLASS[rv.config.task]
    return rest if rest in ds.classes else None


def _per_dataset(ds: Any, index: np.ndarray, probs: np.ndarray, rest: str | None) -> dict:
    from training import pipeline
    from training.evaluate import card_dataset_metrics

    out = {}
    for name, m in pipeline.held_out_metrics(ds, index, probs, rest)[1].items():
        figures = card_dataset_metrics(m)
        figures["recall"] = {c: round(v["recall"], 4) for c, v in m["per_class"].items()}
        out[name] = figures
    return out


def measure_run(rv: RunViews, ds: Any, variants: Sequence[str]) -> dict:
    """Every variant's validation and held-out figures for one run."""
    rest = _rest(rv, ds)
    out: dict[str, Any] = {"run": rv.run, "seed": rv.seed, "variants": {}}
    for name in variants:
        val, test, calib = variant_probs(rv, ds, name)
        out["variants"][name] = {
            "calibration": calib,
            "validation": _per_dataset(ds, rv.val_index, val, rest),
            "held_out": _per_dataset(ds, rv.test_index, test, rest),
        }
    return out


def ensemble(runs: Sequence[tuple[RunViews, Any]], views: Sequence[str] = ("id",)) -> dict:
    """Mean calibrated probabilities of the runs' networks on the images *every* run held out
    (FER+ valid; CK+ subjects no seed trained on), optionally with TTA views."""
    ds = runs[0][1]
    if any(d is not ds for _, d in runs):
        raise ValueError("an ensemble needs runs on the same data")
    common = set(runs[0][0].test_index.tolist())
    for rv, _ in runs[1:]:
        common &= set(rv.test_index.tolist())
    index = np.asarray(sorted(common), dtype=int)
    probs = []
    for rv, _ in runs:
        pos = np.searchsorted(rv.test_index, index)
        probs.append(average([_calibrated(rv, rv.test[v][pos]) for v in views], "prob"))
    held = _per_dataset(ds, index, np.mean(np.stack(probs), axis=0), _rest(runs[0][0], ds))
    return {"runs": [rv.run for rv, _ in runs], "views": list(views), "held_out": held}


def _val(record: dict, variant: str) -> tuple[float, float, float]:
    """Validation FER+ 5-expression macro-F1, CK+ accuracy and FER+ neutral rate (NaN where a
    run has no such set: then nothing is raised and the rule cannot pass)."""
    v = record["variants"][variant]["validation"]
    got = (_expr("ferplus", "macro_f1")(v), _expr("ckplus5", "accuracy")(v))
    neutral = _get("ferplus", "rest_rate")(v)
    fer, ck, rate = (float("nan") if x is None else float(x) for x in (*got, neutral))
    return fer, ck, rate


def decide(records: Sequence[dict], variants: Sequence[str]) -> dict:
    """The :data:`RULE` applied to each variant, on validation figures only."""
    verdicts: dict[str, Any] = {}
    for name in variants:
        if name == BASELINE:
            continue
        seeds = []
        for r in records:
            fer0, ck0, _ = _val(r, BASELINE)
            fer, ck, neutral = _val(r, name)
            seeds.append(
                {
                    "seed": r["seed"],
                    "fer_macro_f1_up": fer > fer0 + 1e-12,
                    "ck_accuracy_up": ck > ck0 + 1e-12,
                    "neutral_rate_kept": neutral >= MIN_NEUTRAL_RATE,
                }
            )
        passing = [s["seed"] for s in seeds if all(v for k, v in s.items() if k != "seed")]
        mean_f1 = statistics.mean(_val(r, name)[0] for r in records)
        verdicts[name] = {
            "per_seed": seeds,
            "seeds_passing": passing,
            "passes": len(passing) >= MIN_SEEDS,
            "mean_validation_fer_macro_f1": mean_f1,
        }
    flips = [n for n in FLIP_VARIANTS if n in verdicts and verdicts[n]["passes"]]
    candidates = flips + [
        n for n in verdicts if n not in FLIP_VARIANTS and flips and verdicts[n]["passes"]
    ]
    best = max(candidates, key=lambda n: verdicts[n]["mean_validation_fer_macro_f1"], default=None)
    return {"rule": RULE, "variants": verdicts, "passes": best is not None, "candidate": best}


def evaluate_runs(run_dirs: Sequence[Path], variants: Sequence[str] = tuple(VARIANTS)) -> dict:
    """The ``tta.json`` report of ``run_dirs`` (seeds of one recipe)."""
    views = list(dict.fromkeys(v for name in variants for v in VARIANTS[name][0]))
    cache: dict = {}
    loaded = [run_views(Path(d), views, cache) for d in run_dirs]
    records = [measure_run(rv, ds, variants) for rv, ds in loaded]
    report = {
        "shift_px": SHIFT_PX,
        "decision": decide(records, variants),
        "runs": records,
        "ensemble": {
            "as is": ensemble(loaded),
            "flip, mean prob": ensemble(loaded, ("id", "flip")),
        },
    }
    return report


# -- the model-card section ------------------------------------------------------------------

Getter = Callable[[dict], float | None]


def _expr(dataset: str, key: str) -> Getter:
    def get(m: dict) -> float | None:
        e = m.get(dataset, {}).get("expressions")
        return None if e is None else e["argmax_all"][key]

    return get


def _get(dataset: str, key: str) -> Getter:
    return lambda m: m.get(dataset, {}).get(key)


def _recall(dataset: str, cls: str) -> Getter:
    return lambda m: m.get(dataset, {}).get("recall", {}).get(cls)


ROWS: list[tuple[str, Getter]] = [
    ("CK+ accuracy (5 expressions, arg-max over all)", _expr("ckplus5", "accuracy")),
    ("CK+ macro-F1", _expr("ckplus5", "macro_f1")),
    ("FER+ 5 expressions: accuracy", _expr("ferplus", "accuracy")),
    ("FER+ 5 expressions: macro-F1", _expr("ferplus", "macro_f1")),
    ("FER+ neutral rate", _get("ferplus", "rest_rate")),
    ("FER+ sadness recall", _recall("ferplus", "sadness")),
    ("FER+ ECE (6 classes, 15 bins)", _get("ferplus", "ece")),
]


def table(report: dict, split: str) -> list[str]:
    """One column per variant (mean ± sd over the runs), one row per figure."""
    names = list(report["runs"][0]["variants"])
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, get in ROWS:
        cells = []
        for name in names:
            values = [get(r["variants"][name][split]) for r in report["runs"]]
            cells.append(mean_sd([v for v in values if v is not None]))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _ensemble_lines(report: dict) -> list[str]:
    lines = []
    for name, e in report.get("ensemble", {}).items():
        h = e["held_out"]
        parts = []
        for dataset, title in (("ferplus", "FER+ valid"), ("ckplus5", "CK+ subjects no seed saw")):
            if dataset in h:
                m = h[dataset]
                few = " — too few to read" if m["images"] < FEW_IMAGES else ""
                parts.append(
                    f"{title} ({m['images']} images{few}): 5-expression accuracy "
                    f"{_expr(dataset, 'accuracy')(h):.3f} / macro-F1 "
                    f"{_expr(dataset, 'macro_f1')(h):.3f}"
                    + (f", neutral rate {m['rest_rate']:.3f}" if m.get("rest_rate") else "")
                )
        lines.append(f"- ensemble of the {len(e['runs'])} networks, {name}: " + "; ".join(parts))
    return lines


def render(report: dict) -> list[str]:
    """The card's TTA section: the rule, the verdict, validation then held-out tables."""
    d = report["decision"]
    seeds = ", ".join(str(r["seed"]) for r in report["runs"])
    lines = [
        f"### Test-time augmentation (`python -m training tta-eval`; seeds {seeds})",
        "",
        f"Rule (fixed before the held-out figures were looked at): {d['rule']}",
        "",
    ]
    for name, v in d["variants"].items():
        seeds_with = {
            key: ", ".join(str(s["seed"]) for s in v["per_seed"] if s[key]) or "none"
            for key in ("fer_macro_f1_up", "ck_accuracy_up", "neutral_rate_kept")
        }
        lines.append(
            f"- {name}: FER+ macro-F1 raised for seeds {seeds_with['fer_macro_f1_up']}, CK+ "
            f"accuracy raised for {seeds_with['ck_accuracy_up']}, neutral rate ≥ "
            f"{MIN_NEUTRAL_RATE} for {seeds_with['neutral_rate_kept']} → all three for "
            f"{', '.join(map(str, v['seeds_passing'])) or 'none'}: "
            + ("passes" if v["passes"] else "fails")
        )
    verdict = f"passes with `{d['candidate']}`" if d["passes"] else "fails: TTA is not shipped"
    lines += ["", f"Verdict: {verdict}.", ""]
    lines += ["Validation split of the training data (what the rule reads):", ""]
    lines += [*table(report, "validation"), ""]
    lines += ["Held-out sets (reported only, never selected on):", ""]
    lines += [*table(report, "held_out"), ""]
    lines += ["Reference only (no spread over seeds; images held out by every seed):", ""]
    return [*lines, *_ensemble_lines(report)]


# -- command line ----------------------------------------------------------------------------


def cmd_tta_eval(args: argparse.Namespace) -> int:
    report = evaluate_runs([Path(d) for d in args.run])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print("\n".join(render(report)))
    print(f"wrote {out}")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tta-eval",
        help="test-time augmentation (flip, shifts) of saved runs on validation and held-out data",
    )
    p.add_argument(
        "--run", action="append", required=True, help="a run directory (repeat: one per seed)"
    )
    p.add_argument("--out", default="docs/results/tta.json")
