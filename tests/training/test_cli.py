"""``python -m training``: train → evaluate → export through the command line, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model_artifact import ModelRepository
from training.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = ["--epochs", "2", "--batch-size", "8", "--quiet"]


@pytest.fixture(scope="module")
def micro_data(make_image_folder):
    return make_image_folder(
        ["anger", "contempt", "disgust", "happiness", "sadness"], subjects=5, per_subject=1
    )


@pytest.mark.slow
def test_train_evaluate_export(micro_data, tmp_path, capsys):
    run_dir = tmp_path / "run"
    repo = tmp_path / "repo"
    argv = ["train", "--data", str(micro_data), "--out", str(run_dir), "--export", str(repo)]
    assert main([*argv, *FAST, "--early-stopping", "1", "--reduce-lr", "1"]) == 0
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "exported micro-cnn version 1" in out
    run = json.loads((run_dir / "run.json").read_text())
    assert run["config"]["split"] == "subject" and run["config"]["seed"] == 0
    subjects = lambda files: {Path(f).name.split("_")[0] for f in files}  # noqa: E731
    assert subjects(run["train_files"]).isdisjoint(subjects(run["test_files"]))
    assert (run_dir / "model.keras").is_file()
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert set(evaluation) >= {"accuracy", "macro", "weighted", "per_class", "confusion"}
    assert (run_dir / "evaluation_confusion.png").read_bytes()[:4] == b"\x89PNG"

    # evaluate the saved run again on its own held-out files: same figures
    assert main(["evaluate", "--run", str(run_dir), "--out", str(tmp_path / "ev")]) == 0
    again = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert again["accuracy"] == pytest.approx(evaluation["accuracy"])
    assert again["confusion"] == evaluation["confusion"]

    # export the run again: a new version, the first one untouched
    assert main(["export", "--run", str(run_dir), "--repository", str(repo)]) == 0
    versions = ModelRepository(repo).all_versions()
    assert [(v.name, v.version) for v in versions] == [("micro-cnn", 1), ("micro-cnn", 2)]
    assert versions[0].card.metrics == versions[1].card.metrics
    assert 'name: "micro-cnn"' in (repo / "models.config").read_text()


@pytest.mark.slow  # trains two models
def test_masked_proxy_and_random_split(micro_data, tmp_path, capsys):
    run_dir = tmp_path / "masked"
    argv = ["train", "--data", str(micro_data), "--masked-proxy", "--split", "random"]
    assert main([*argv, "--out", str(run_dir), "--no-augment", "--class-weights", *FAST]) == 0
    card = json.loads((run_dir / "run.json").read_text())["card"]
    assert card["name"] == "masked-cnn"
    assert card["classes"] == ["happy_but_angry", "happy_but_sad"]
    assert card["face_region"] == "upper"
    assert card["training"]["split"] == "random"
    assert card["recipe"]["class_map"] == {"anger": "happy_but_angry", "sadness": "happy_but_sad"}


@pytest.mark.slow
def test_kfold_by_subject(micro_data, tmp_path, capsys):
    out = tmp_path / "cv"
    argv = ["evaluate", "--data", str(micro_data), "--folds", "2", "--out", str(out)]
    assert main([*argv, "--epochs", "1", "--quiet"]) == 0
    cv = json.loads((out / "cross_validation.json").read_text())
    assert cv["k"] == 2 and len(cv["folds"]) == 2
    assert sum(sum(map(sum, f["confusion"])) for f in cv["folds"]) == 25  # every image once
    assert "over 2 subject folds" in capsys.readouterr().out
    assert (out / "pooled_confusion.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data", "/nonexistent/folder"], "does not exist"),
        (["train", "--data", "{data}", "--arch", "alexnet"], "unknown architecture 'alexnet'"),
        (["train", "--data", "{data}", "--weights", "imagenet", "--arch", "cnn"], "ImageNet"),
        (["export", "--run", "/nonexistent/run"], "not a training run"),
        (["evaluate", "--folds", "3"], "--run DIR or --data"),
    ],
)
def test_errors_are_clear_and_exit_2(argv, message, micro_data, capsys):
    argv = [a.replace("{data}", str(micro_data)) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_fewer_than_two_classes(make_image_folder, capsys):
    root = make_image_folder(["anger"], subjects=3)
    assert main(["train", "--data", str(root)]) == 2
    assert "need at least 2 classes" in capsys.readouterr().err


@pytest.mark.slow
def test_list_archs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "training", "list-archs"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for arch in ("cnn", "resnet50", "vgg16", "vgg19", "inceptionv3", "efficientnetb0"):
        assert arch in out
    assert "75 px" in out
