"""Stored results of the multi-dataset recipes (v2, v3, ablations) and their model-card section.

A *record* is one trained model's figures, kept as a small JSON file (``docs/results/*.json``):
the recipe label, seed, the validation-split figures it was selected on, and the full held-out
metrics per dataset (confusion matrices included). ``python -m training record`` writes one
from a run directory or an exported version; ``python -m training card`` renders every record
into the model card between the markers, with mean ± sd over seeds. Nothing is typed in by hand.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import numpy as np

from training.evaluate import card_dataset_metrics

BEGIN = "<!-- v2-results:begin -->"
END = "<!-- v2-results:end -->"
INTRO = "intro.md"  # prose of the section (setup, caveats), kept beside the records

Figure = Callable[[dict], float | None]


def record_from_run(run_dir: Path, label: str, shipped: str | None = None) -> dict:
    """The record of a saved training run (``run.json`` + ``evaluation-<dataset>.json``)."""
    run_dir = Path(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    card = info["card"]
    held_out = {
        name: json.loads((run_dir / f"evaluation-{name}.json").read_text())
        for name in card["evaluation"]["datasets"]
    }
    return {
        "label": label,
        "name": card["name"],
        "shipped": shipped,
        "seed": card["training"]["seed"],
        "epochs": card["training"]["epochs"],
        "seconds": info.get("seconds"),
        "recipe": card["recipe"],
        "temperature": card["evaluation"].get("temperature"),
        "validation": info.get("validation", {}),
        "held_out": {name: slim(m) for name, m in held_out.items()},
    }


RecordRuntime = Literal["savedmodel", "int8"]


def record_from_version(
    version_dir: Path, label: str, runtime: RecordRuntime = "savedmodel"
) -> dict:
    """The record of an exported version, re-evaluated on its own held-out data (the card's
    recipe and split rebuilt; the held-out subjects must match the card's) through the
    gateway's ``runtime`` (``savedmodel``: TF Serving's answers; ``int8``: its companion,
    which must exist)."""
    from model_artifact import REST_CLASS, ModelCard, ModelVersion
    from service.backends.runtimes import load_runtime
    from training import pipeline
    from training.export import read_card

    card = read_card(version_dir)
    if runtime not in get_args(RecordRuntime):
        raise ValueError(f"runtime must be savedmodel or int8, not {runtime!r}")
    # The serving signature as the gateway's runtime calls it.
    model = ModelVersion(card=ModelCard.model_validate(card), path=version_dir)
    runner = load_runtime(model, runtime)
    if runner.name != runtime:
        raise ValueError(f"{version_dir} has no usable {runtime} runtime (got {runner.name})")
    recipe = card["recipe"]
    config = pipeline.RunConfig(
        data=recipe["data"],
        task=card["task"],
        arch=card["arch"],
        size=card["input"]["height"],
        face_region=card["face_region"],
        split=card["training"]["split"],
        test_size=card["evaluation"]["test_size"],
        seed=card["training"]["seed"],
        subject_regex=recipe["subject_regex"],
        class_map=recipe.get("class_map", {}),
        class_maps=recipe.get("class_maps", {}),
        skip_folders=recipe.get("skip_folders", {}),
        # v2's cards predate the field; recipe_v2 trained with 0.1.
        val_size=recipe.get("val_size", 0.1),
        calibrate=True,
    )
    ds = pipeline.load(config, classes=list(card["classes"]))
    train, test = pipeline.split_by_source(ds, config.split, config.test_size, config.seed)
    subject_split = ds.fixed_split[test] == ""
    subjects = sorted({str(s) for s in ds.subjects[test][subject_split]})
    if subjects != sorted(card["evaluation"]["held_out_subject_ids"]):
        raise ValueError(f"the data no longer gives {version_dir}'s held-out subjects")

    def probs(index: np.ndarray) -> np.ndarray:
        x = ds.images[index][..., None]
        return np.concatenate([runner.run(x[i : i + 256]) for i in range(0, len(x), 256)])

    rest = REST_CLASS[config.task] if REST_CLASS[config.task] in ds.classes else None
    _, per = pipeline.held_out_metrics(ds, test, probs(test), rest)
    # The validation split it was calibrated on (the seed's), for comparing recipes.
    _, val = pipeline.validation_split(ds, train, config)
    validation = {}
    if val is not None:
        per_val = pipeline.held_out_metrics(ds, val, probs(val), rest)[1]
        validation = {name: card_dataset_metrics(m) for name, m in per_val.items()}
    return {
        "label": label,
        "name": card["name"],
        "shipped": str(card["version"]),
        "seed": card["training"]["seed"],
        "epochs": card["training"]["epochs"],
        "seconds": None,
        "recipe": recipe,
        "runtime": runtime,
        "temperature": card["evaluation"].get("temperature"),
        "validation": validation,
        "held_out": {name: slim(m) for name, m in per.items()},
    }


def slim(metrics: dict) -> dict:
    """The card figures plus the confusion matrix, per-class recall and class order."""
    out = card_dataset_metrics(metrics)
    out["classes"] = list(metrics["per_class"])
    out["recall"] = {c: round(v["recall"], 4) for c, v in metrics["per_class"].items()}
    out["support"] = {c: int(v["support"]) for c, v in metrics["per_class"].items()}
    out["confusion"] = metrics["confusion"]
    return out


def write_record(record: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{record['name']}-{record['label']}-s{record['seed']}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load_records(results_dir: Path) -> list[dict]:
    """Every stored record (``<name>-<label>-s<seed>.json``) of ``results_dir``."""
    records = [json.loads(p.read_text()) for p in sorted(Path(results_dir).glob("*-s*.json"))]
    return [r for r in records if "held_out" in r]


def _expr(dataset: str, kind: str, key: str) -> Figure:
    def get(r: dict) -> float | None:
        e = r["held_out"].get(dataset, {}).get("expressions")
        return None if e is None else e[kind][key]

    return get


def _field(dataset: str, key: str, part: str = "held_out") -> Figure:
    return lambda r: r[part].get(dataset, {}).get(key)


def _recall(dataset: str, cls: str) -> Figure:
    return lambda r: r["held_out"].get(dataset, {}).get("recall", {}).get(cls)


# (label, getter, issue target (bar)) — every figure on data the model never trained on.
FIGURES: list[tuple[str, Figure, str]] = [
    (
        "CK+ held-out subjects, 5 classes: accuracy (arg-max over all)",
        _expr("ckplus5", "argmax_all", "accuracy"),
        "0.90 (0.85)",
    ),
    ("same: macro-F1", _expr("ckplus5", "argmax_all", "macro_f1"), "0.88 (0.80)"),
    (
        "same, arg-max restricted to the 5 expressions: accuracy",
        _expr("ckplus5", "restricted", "accuracy"),
        "",
    ),
    ("same, restricted: macro-F1", _expr("ckplus5", "restricted", "macro_f1"), ""),
    ("CK+ held-out: expressions labelled neutral", _field("ckplus5", "expression_as_rest"), ""),
    (
        "FER+ valid, 5 expressions: accuracy (arg-max over all)",
        _expr("ferplus", "argmax_all", "accuracy"),
        "0.75 (0.65)",
    ),
    ("same: macro-F1", _expr("ferplus", "argmax_all", "macro_f1"), "0.60 (0.50)"),
    (
        "same, restricted to the 5 expressions: accuracy",
        _expr("ferplus", "restricted", "accuracy"),
        "",
    ),
    ("same, restricted: macro-F1", _expr("ferplus", "restricted", "macro_f1"), ""),
    ("FER+ valid neutral faces labelled neutral", _field("ferplus", "rest_rate"), "0.85 (0.75)"),
    ("FER+ valid expressions labelled neutral", _field("ferplus", "expression_as_rest"), ""),
    ("FER+ valid sadness recall", _recall("ferplus", "sadness"), ""),
    ("FER+ valid (6 classes): ECE, 15 bins", _field("ferplus", "ece"), ""),
    ("CK+ held-out: ECE", _field("ckplus5", "ece"), ""),
]
MASKED_FIGURES: list[tuple[str, Figure, str]] = [
    (
        "FER+ valid neutral + happy upper faces kept `none`",
        _field("ferplus", "rest_rate"),
        "masked label on ≤ 10 %",
    ),
    (
        "CK+ held-out genuine smiles kept `none`",
        _field("ckplus5", "rest_rate"),
        "masked label on ≤ 10 %",
    ),
    (
        "CK+ held-out angry upper faces → happy_but_angry (recall)",
        _recall("ckplus5", "happy_but_angry"),
        "",
    ),
    (
        "CK+ held-out sad upper faces → happy_but_sad (recall)",
        _recall("ckplus5", "happy_but_sad"),
        "",
    ),
    (
        "FER+ valid angry/sad upper faces labelled `none`",
        _field("ferplus", "expression_as_rest"),
        "",
    ),
    (
        "between the two masked classes only (restricted): CK+ accuracy",
        _expr("ckplus5", "restricted", "accuracy"),
        "",
    ),
    ("same: FER+ accuracy", _expr("ferplus", "restricted", "accuracy"), ""),
    ("FER+ valid ECE", _field("ferplus", "ece"), ""),
    ("CK+ held-out ECE", _field("ckplus5", "ece"), ""),
]
# What recipes are compared on: the validation split of the *training* data.
VALIDATION: list[tuple[str, Figure]] = [
    ("validation CK+ (training subjects): accuracy", _field("ckplus5", "accuracy", "validation")),
    ("validation CK+: macro-F1", _field("ckplus5", "macro_f1", "validation")),
    ("validation FER+ train part: accuracy", _field("ferplus", "accuracy", "validation")),
    ("validation FER+ train part: macro-F1", _field("ferplus", "macro_f1", "validation")),
    ("validation FER+: neutral rate", _field("ferplus", "rest_rate", "validation")),
]


def mean_sd(values: list[float]) -> str:
    """``mean ± sd`` of the values to 3 places (one value alone; "—" for none)."""
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def _groups(records: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: (r["name"], r["label"], r["seed"])):
        out.setdefault(f"{r['name']} {r['label']}", []).append(r)
    return out


def _header(groups: dict[str, list[dict]]) -> str:
    cells = []
    for key, rs in groups.items():
        shipped = next((r["shipped"] for r in rs if r.get("shipped")), None)
        seeds = ", ".join(str(r["seed"]) for r in rs)
        cells.append(f"{key}{f' (v{shipped})' if shipped else ''}, seeds {seeds}")
    return "| figure | " + " | ".join(cells) + " | issue target (bar) |"


def figures_table(
    records: list[dict], rows: list[tuple[str, Figure, str]] | None = None
) -> list[str]:
    """One column per recipe label (mean ± sd over its seeds), one row per figure."""
    groups = _groups(records)
    rows = FIGURES if rows is None else rows
    lines = [_header(groups), "|---|" + "---|" * len(groups) + "---|"]
    for label, get, target in rows:
        cells = [mean_sd([v for v in map(get, rs) if v is not None]) for rs in groups.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return lines


def confusion_table(record: dict, dataset: str) -> list[str]:
    m = record["held_out"][dataset]
    classes = m["classes"]
    lines = [
        "| true \\ predicted | " + " | ".join(classes) + " |",
        "|---|" + "---|" * len(classes),
    ]
    for cls, row in zip(classes, m["confusion"], strict=True):
        if sum(row):
            lines.append(f"| {cls} | " + " | ".join(str(v) for v in row) + " |")
    return lines


def per_seed_lines(records: list[dict]) -> list[str]:
    lines = []
    for key, rs in _groups(records).items():
        parts = []
        for r in rs:
            ck = _expr("ckplus5", "argmax_all", "accuracy")(r)
            fer = _expr("ferplus", "argmax_all", "macro_f1")(r)
            neutral = _field("ferplus", "rest_rate")(r)
            minutes = f", {r['seconds'] / 60:.0f} min" if r.get("seconds") else ""
            parts.append(
                f"seed {r['seed']}: CK+ acc {_num(ck)}, FER+ macro-F1 {_num(fer)}, neutral rate "
                f"{_num(neutral)} ({r['epochs']} epochs{minutes})"
            )
        lines.append(f"- {key}: " + "; ".join(parts))
    return lines


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def api_lines(stored: Path | None) -> list[str]:
    """The card's "Through the API" tables from ``stored``'s ``api-*.json`` (training.api_eval),
    the default image search first."""
    from training.api_eval import LEGEND, runtime_of, summary_lines

    if stored is None:
        return []
    apis = [json.loads(p.read_text()) for p in sorted(stored.glob("api-*.json"))]
    apis.sort(
        key=lambda a: (
            a["model"],
            -a["version"],
            a.get("image_detector") != "blazeface",
            runtime_of(a) != "int8",  # the default runtime first
        )
    )
    if not apis:
        return []
    lines = ["### Through the API (what a user gets)", "", LEGEND, ""]
    for api in apis:
        lines += [*summary_lines(api), ""]
    peer = stored / "peer-fer-faces.json"
    if peer.is_file():
        from training.peer_scores import render

        lines += [*render(json.loads(peer.read_text())), ""]
    return lines


def render_block(records: list[dict], intro: list[str], stored: Path | None = None) -> str:
    """The marked model-card section: ``intro`` (prose), tables from the records and, when
    ``stored`` holds one, the per-architecture table (``training.arch_table``)."""
    micro = [r for r in records if r["name"] == "micro-cnn"]
    lines = [BEGIN, *intro, "", "### Figures (held-out data only; mean ± sd over seeds)", ""]
    lines += figures_table(micro)
    lines += ["", "Selected on (validation split of the training data, never the held-out sets):"]
    lines += ["", *figures_table(micro, [(a, b, "") for a, b in VALIDATION]), ""]
    lines += ["Per seed:", "", *per_seed_lines(micro), ""]
    masked = [r for r in records if r["name"] == "masked-cnn"]
    if masked:
        lines += ["### masked-cnn (upper faces; held-out data only)", ""]
        lines += [*figures_table(masked, MASKED_FIGURES), ""]
    for r in [*micro, *masked]:
        if r.get("shipped") and r["seed"] == 0:
            for dataset, title in (("ckplus5", "CK+ held-out subjects"), ("ferplus", "FER+ valid")):
                if dataset in r["held_out"]:
                    lines += [f"{r['name']} v{r['shipped']} ({r['label']}), {title}:", ""]
                    lines += [*confusion_table(r, dataset), ""]
    cost = None if stored is None else stored / "cost.json"
    if cost is not None and cost.is_file():
        lines += [*cost_lines(json.loads(cost.read_text())), ""]
    tta = None if stored is None else stored / "tta.json"
    if tta is not None and tta.is_file():
        from training.tta import render as render_tta

        lines += [*render_tta(json.loads(tta.read_text())), ""]
    gate = None if stored is None else stored / "gate.json"
    if gate is not None and gate.is_file():
        from training.gate_eval import render as render_gate

        lines += [
            "### The smile gate (masked answers)",
            "",
            *render_gate(json.loads(gate.read_text())),
            "",
        ]
    lines += api_lines(stored)
    table = None if stored is None else stored / "archs.json"
    if table is not None and table.is_file():
        from training.arch_table import render

        lines += [*render(json.loads(table.read_text())), ""]
    return "\n".join([*lines, END])


def cost_lines(cost: dict) -> list[str]:
    """``python -m training cost --out`` figures: ms per face and the ratio to the first."""
    ms = cost["ms_per_face"]
    base = next(iter(ms.values()))
    lines = [
        f"Inference cost (ms per face, batch {cost['batch']}, CPU, one process, round-robin):",
        "",
        "| exported version | ms per face | vs the first |",
        "|---|---|---|",
    ]
    return lines + [f"| `{k}` | {v:.3f} | {v / base:.2f}x |" for k, v in ms.items()]


def replace_block(card: Path, block: str) -> Path:
    text = card.read_text() if card.is_file() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text)
    return card
