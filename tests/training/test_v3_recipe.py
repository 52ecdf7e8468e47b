"""The v3 options: the deep CNN layout, the recipe and its soft/hard override, validation-split
figures, stored results rendered into the card, and the inference-cost timer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training import results
from training.archs import build_model
from training.cli import main, parser
from training.recipes import named_recipe, recipe_v2, recipe_v3

PATHS = {"ckplus5": "ck", "ferplus": "fer"}


def test_deep_cnn_has_two_convolutions_per_block_and_depth_1_is_unchanged():
    deep = build_model("cnn", 6, 48, cnn_batchnorm=True, cnn_depth=2)
    convs = [layer for layer in deep.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [16, 16, 32, 32, 64, 64]
    assert [c.padding for c in convs] == ["valid", "same"] * 3
    assert deep.get_layer("pool3").output.shape[1:] == (4, 4, 64)
    flat = build_model("cnn", 6, 48, cnn_width=2, cnn_batchnorm=True)
    names = [layer.name for layer in flat.layers if layer.__class__.__name__ == "Conv2D"]
    assert names == ["conv1", "conv2", "conv3"]  # v2's layer names: its weights still load
    with pytest.raises(ValueError, match="cnn_depth"):
        build_model("cnn", 6, 48, cnn_depth=0)


def test_v3_recipe_and_the_label_override():
    v2, v3 = recipe_v2("micro", PATHS), recipe_v3("micro", PATHS)
    assert v2.fit.soft_labels and not v3.fit.soft_labels
    assert (v3.cnn_depth, v3.cnn_width, v3.cnn_batchnorm) == (2, 1, True)
    assert v3.oversample == {"ckplus5": 8} and v3.calibrate and v3.fit.epochs == 8
    assert not recipe_v2("micro", PATHS, soft_labels=False).fit.soft_labels
    assert recipe_v3("micro", PATHS, soft_labels=True, epochs=3).fit.epochs == 3
    assert named_recipe("v3", "micro", PATHS, seed=2).seed == 2
    assert named_recipe("v3", "masked", PATHS).fit == recipe_v2("masked", PATHS).fit
    with pytest.raises(ValueError, match="unknown recipe"):
        named_recipe("v9", "micro", PATHS)
    data = ["--data", "ckplus5=x", "--data", "ferplus=y"]
    args = parser().parse_args(["train", "--recipe", "v3", "--labels", "soft", *data])
    assert (args.recipe, args.labels) == ("v3", "soft")


def _metrics(acc: float, neutral: float) -> dict:
    classes = ["anger", "sadness", "neutral"]
    return {
        "accuracy": acc,
        "macro_f1": acc - 0.1,
        "ece": 0.05,
        "rest_rate": neutral,
        "expression_as_rest": 0.2,
        "expressions": {
            "classes": classes[:2],
            "images": 4,
            "argmax_all": {"accuracy": acc, "macro_f1": acc - 0.1},
            "restricted": {"accuracy": acc + 0.05, "macro_f1": acc},
        },
        "images": 6,
        "per_class_f1": dict.fromkeys(classes, 0.5),
        "classes": classes,
        "recall": dict.fromkeys(classes, 0.5),
        "support": dict.fromkeys(classes, 2),
        "confusion": [[2, 0, 0], [0, 1, 1], [0, 0, 2]],
    }


def _record(label: str, seed: int, acc: float, shipped: str | None = None) -> dict:
    held = {"ckplus5": _metrics(acc, None), "ferplus": _metrics(acc, 0.9)}
    return {
        "label": label,
        "name": "micro-cnn",
        "shipped": shipped,
        "seed": seed,
        "epochs": 12,
        "seconds": 600.0,
        "recipe": {},
        "temperature": 1.0,
        "validation": {"ferplus": {"accuracy": acc, "macro_f1": acc, "rest_rate": 0.8}},
        "held_out": held,
    }


def test_stored_results_render_mean_and_sd_over_seeds(tmp_path: Path, capsys):
    store = tmp_path / "results"
    for seed, acc in ((0, 0.6), (1, 0.7), (2, 0.8)):
        results.write_record(_record("v3", seed, acc, "3" if seed == 0 else None), store)
    results.write_record(_record("v2", 0, 0.5, "2"), store)
    (store / results.INTRO).write_text("## Multi-dataset models\n\nprose")
    card = tmp_path / "card.md"
    card.write_text("# Card\n\nkept\n")
    argv = ["card", "--runs", str(tmp_path / "none"), "--card", str(card), "--results", str(store)]
    assert main(argv) == 0
    text = card.read_text()
    assert text.startswith("# Card\n\nkept\n") and "prose" in text
    assert "micro-cnn v3 (v3), seeds 0, 1, 2" in text and "micro-cnn v2 (v2), seeds 0" in text
    assert "| 0.700 ± 0.100 |" in text  # mean ± sd of 0.6, 0.7, 0.8
    assert "micro-cnn v3 (v3), CK+ held-out subjects:" in text
    assert main(argv) == 0 and card.read_text() == text  # re-rendering replaces the block
    assert "4 stored" in capsys.readouterr().out


def test_cost_of_an_exported_version(tiny_repository, tmp_path, capsys):
    from training.cost import predict_ms_per_face

    version = tiny_repository / "micro-cnn" / "1"
    ms = predict_ms_per_face([version, version], batch=4, rounds=2, warmup=1)
    assert list(ms) == [str(version)] and ms[str(version)] > 0
    out = tmp_path / "cost.json"
    assert main(["cost", str(version), "--batch", "4", "--rounds", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["batch"] == 4
    assert "1.00x the first" in capsys.readouterr().out


@pytest.mark.slow  # trains every architecture on two datasets
def test_arch_table_on_two_datasets_renders_into_the_card(tmp_path: Path):
    from test_sources import presplit, write_image_folder

    from training.arch_table import render, run_table

    posed = write_image_folder(tmp_path / "ck", ["anger", "happiness", "sadness"], subjects=6)
    wild = presplit(tmp_path / "fer", ["anger", "fear", "happiness", "neutral", "surprise"])
    out = tmp_path / "results" / "archs.json"
    paths = {"ckplus5": str(posed), "ferplus": str(wild)}
    table = run_table(paths, out, archs=["cnn"], epochs=1, fer_images=6, sizes={"cnn": 32})
    row = json.loads(out.read_text())["rows"][0]
    assert row == table["rows"][0] and (row["arch"], row["size"]) == ("cnn", 32)
    # the FER+ cap + every CK+ training-subject image (6 subjects x 3 classes, some held out)
    assert 6 < row["train_images"] < 6 + 18
    assert set(row["held_out"]) == {"ckplus5", "ferplus"}
    text = "\n".join(render(table))
    assert f"32 px | {row['train_images']} | 1 |" in text and "| cnn" in text
    assert "Not run" not in text  # every requested architecture finished
    assert "Not run within the session's CPU budget (stopped): vgg16." in "\n".join(
        render({**table, "requested": ["cnn", "vgg16"]})
    )
