"""``python -m training archs``: the six architectures on the multi-dataset (v3) data, within a
stated CPU budget — a seeded subsample of FER+ train plus every CK+ training subject, a capped
number of epochs, ImageNet weights or none — scored on the full held-out sets (CK+ held-out
subjects, FER+ valid). Results go to one JSON file (after every architecture, so an
interrupted run keeps what finished); ``python -m training card`` renders them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from training import pipeline
from training.archs import SPECS
from training.benchmark import classes_predicted
from training.data import Dataset
from training.recipes import recipe_v3
from training.results import slim

log = logging.getLogger(__name__)

TABLE = "archs.json"  # the file name inside the results directory


def subsample(ds: Dataset, index: np.ndarray, per_source: dict[str, int], seed: int) -> np.ndarray:
    """``index`` with at most ``per_source[name]`` images of that dataset (stratified by class,
    seeded); datasets not named are kept whole."""
    from sklearn.model_selection import train_test_split

    rng_state = np.random.RandomState(seed)
    keep = []
    for name in dict.fromkeys(ds.sources[index]):
        idx = index[ds.sources[index] == name]
        cap = per_source.get(str(name))
        if cap is not None and cap < len(idx):
            idx, _ = train_test_split(
                idx, train_size=cap, stratify=ds.labels[idx], random_state=rng_state
            )
        keep.append(idx)
    return np.sort(np.concatenate(keep))


def run_table(
    paths: dict[str, str],
    out: Path,
    archs: list[str],
    epochs: int,
    fer_images: int,
    sizes: dict[str, int] | None = None,
    weights: str = "none",
    seed: int = 0,
) -> dict:
    """Train and score each of ``archs``; write ``out`` after every one."""
    sizes = sizes or {}
    table: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "budget": {"epochs": epochs, "ferplus_train_images": fer_images, "weights": weights},
        "seed": seed,
        "requested": list(archs),
        "rows": [],
    }
    datasets: dict[int, Dataset] = {}
    for arch in archs:
        base = recipe_v3("micro", paths, seed=seed, epochs=epochs)
        config = replace(
            base,
            arch=arch,
            size=sizes.get(arch, SPECS[arch].default_size),
            weights=weights,
            calibrate=False,  # no validation split: every training image is used
            oversample={},
        )
        if config.input_size not in datasets:
            datasets[config.input_size] = pipeline.load(config)
        ds = datasets[config.input_size]
        train, test = pipeline.split_by_source(ds, config.split, config.test_size, seed)
        train = subsample(ds, train, {"ferplus": fer_images}, seed)
        log.info("== %s at %d px: %d training images", arch, config.input_size, len(train))
        result = pipeline.train_on(config, ds, train, test)
        table["rows"].append(
            {
                "arch": arch,
                "size": config.input_size,
                "train_images": len(train),
                "epochs": result.epochs_trained,
                "seconds": round(result.seconds, 1),
                "held_out": {name: slim(m) for name, m in result.per_dataset.items()},
            }
        )
        keras.backend.clear_session()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(table, indent=1) + "\n")
    return table


def render(table: dict) -> list[str]:
    """The per-architecture table (CK+ held-out and FER+ valid, expression images, arg-max
    over all six classes; the FER+ neutral rate)."""
    b = table["budget"]
    lines = [
        "### The six architectures on the v3 data (one seed, a capped budget)",
        "",
        f"Budget: {b['ferplus_train_images']} FER+ train images (stratified, seeded) + every CK+ "
        f"training-subject image, {b['epochs']} epochs, weights `{b['weights']}`, otherwise the "
        "v3 recipe without oversampling or calibration; scored on all the held-out images. "
        "Trained from scratch on so small a budget the rows measure the budget, not the "
        f"architectures. Seed {table['seed']}, {table['date']}.",
        "",
        "| arch | input | training images | epochs | train time | CK+ acc / macro-F1 | "
        "FER+ valid acc / macro-F1 | FER+ neutral rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        ck, fer = row["held_out"].get("ckplus5", {}), row["held_out"].get("ferplus", {})

        def pair(m: dict) -> str:
            e = m.get("expressions", {}).get("argmax_all")
            return "—" if e is None else f"{e['accuracy']:.3f} / {e['macro_f1']:.3f}"

        rate = fer.get("rest_rate")
        collapsed = all(classes_predicted(m["confusion"]) <= 1 for m in (ck, fer) if m)
        lines.append(
            f"| {row['arch']}{' †' if collapsed else ''} | {row['size']} px | "
            f"{row['train_images']} | {row['epochs']} | "
            f"{row['seconds']:.0f} s | {pair(ck)} | {pair(fer)} | "
            f"{'—' if rate is None else f'{rate:.3f}'} |"
        )
    done = {row["arch"] for row in table["rows"]}
    missing = [a for a in table.get("requested", []) if a not in done]
    lines += ["", "† predicts one class for every held-out image (collapsed at this budget)."]
    if missing:
        lines.append(f"Not run within the session's CPU budget (stopped): {', '.join(missing)}.")
    return lines
