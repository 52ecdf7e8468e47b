"""Command line: ``python -m training {train,evaluate,export,list-archs,all}``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from training import quantize, rehead, spot_eval, tta, unexport
from training.archs import SPECS, UnknownArchError
from training.data import DEFAULT_SUBJECT_RE, DataError, parse_class_map
from training.recipes import MASKED_PROXY_MAP, NEEDS_START, RECIPES
from training.results import RecordRuntime
from training.splits import SPLITS
from training.train import FitOptions

if TYPE_CHECKING:
    from training.pipeline import RunConfig

log = logging.getLogger("training")
CALIBRATIONS = ("temperature", "bcts", "temperature-rest")


def _add_data_args(p: argparse.ArgumentParser, data_help: str | None = None) -> None:
    p.add_argument(
        "--data",
        action="append",
        required=data_help is None,
        metavar="[NAME=]PATH",
        help=data_help
        or "dataset folder: one sub-folder per class, or train/ + valid/ (its own split); "
        "repeat to train on several datasets at once",
    )
    p.add_argument("--task", choices=("micro", "masked"), default="micro")
    p.add_argument(
        "--face-region",
        choices=("full", "upper"),
        default=None,
        help="default: full for micro, upper for masked",
    )
    p.add_argument(
        "--class-map",
        action="append",
        metavar="[NAME:]CLASS=FOLDER",
        help="use FOLDER's images as CLASS (repeat; only mapped folders are used); NAME: "
        "limits it to one --data set",
    )
    p.add_argument(
        "--skip-folder",
        action="append",
        metavar="[NAME:]FOLDER",
        help="ignore this class folder (e.g. ferplus:fear); NAME: limits it to one --data set",
    )
    p.add_argument(
        "--masked-proxy",
        action="store_true",
        help=f"shorthand for --task masked --class-map {' '.join(MASKED_PROXY_MAP)}",
    )
    p.add_argument(
        "--subject-regex",
        default=DEFAULT_SUBJECT_RE,
        help="regex on the file name; group 1 is the subject id (default %(default)s)",
    )
    p.add_argument("--dataset-name", help="dataset name for mmed.json (default: folder name)")


def _add_recipe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="cnn", help=f"one of {', '.join(SPECS)}")
    p.add_argument("--size", type=int, help="input size in px (default: the arch's)")
    p.add_argument("--weights", default="none", help="none | imagenet | PATH")
    p.add_argument("--split", choices=SPLITS, default="subject")
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument(
        "--val-size",
        type=float,
        default=0.15,
        help="share of training subjects held out for early stopping",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help=f"default {FitOptions.epochs} (or the recipe's)")
    p.add_argument("--batch-size", type=int, default=FitOptions.batch_size)
    p.add_argument("--learning-rate", type=float, default=FitOptions.learning_rate)
    p.add_argument("--no-augment", action="store_true", help="no data augmentation")
    p.add_argument("--class-weights", action="store_true", help="balanced class weights")
    p.add_argument("--cosine", action="store_true", help="cosine learning-rate decay")
    p.add_argument(
        "--early-stopping",
        type=int,
        default=FitOptions.early_stopping,
        metavar="PATIENCE",
        help="0 = off",
    )
    p.add_argument(
        "--reduce-lr",
        type=int,
        default=FitOptions.reduce_lr,
        metavar="PATIENCE",
        help="halve the learning rate on a validation plateau; 0 = off",
    )
    p.add_argument(
        "--augment-policy",
        choices=("light", "framing"),
        default=FitOptions.augment_policy,
        help="light: CK+-era jitter; framing: also the spread of detector framings",
    )
    p.add_argument(
        "--class-weight-power",
        type=float,
        default=FitOptions.class_weight_power,
        help="with --class-weights: balanced weight ** POWER (0.5 tempers it)",
    )
    p.add_argument("--soft-labels", action="store_true", help="train on votes.csv distributions")
    p.add_argument(
        "--oversample",
        action="append",
        metavar="NAME=TIMES",
        help="repeat a --data set's training images TIMES per epoch",
    )
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="fit a temperature on the validation split and bake it into the model",
    )
    p.add_argument(
        "--calibration",
        choices=CALIBRATIONS,
        default="temperature",
        help="with --calibrate: temperature only, with per-class offsets (BCTS), or with a "
        "rest-class decision offset for validation macro-F1 (temperature-rest)",
    )
    p.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="a shipped recipe (training.recipes: v2, v3) for --task; --data gives the sets "
        "(NAME=PATH with the names ckplus5 and ferplus); other recipe flags are ignored "
        "except --seed, --epochs and --labels",
    )
    p.add_argument(
        "--labels",
        choices=("soft", "hard"),
        help="with --recipe: override its soft/hard label choice (the ablation)",
    )
    p.add_argument(
        "--init-from",
        metavar="RUN",
        help="start from a saved run's network (same data and seed: it must hold out the same "
        "files); training continues from its weights (recipe v5 fine-tunes a v4 run)",
    )
    p.add_argument("--variant", help="optional model-name suffix (e.g. female)")
    p.add_argument("--quiet", action="store_true", help="no per-batch progress bars")


def _scoped_maps(pairs: list[str] | None, names: list[str]) -> tuple[dict, dict]:
    """Unscoped ``CLASS=FOLDER`` maps, and per-dataset ones for ``NAME:CLASS=FOLDER``."""
    from training.sources import scoped, unscoped

    common = unscoped(pairs)
    per = {}
    for name in names:
        own = [p for p in scoped(pairs, name) if p not in common]
        if own:
            per[name] = parse_class_map(common + own)
    return parse_class_map(common), per


def _config(args: argparse.Namespace) -> RunConfig:
    from training.pipeline import RunConfig
    from training.sources import parse_specs, scoped, unscoped

    task = "masked" if args.masked_proxy else args.task
    data = args.data if len(args.data) > 1 or "=" in args.data[0] else args.data[0]
    names = [s.name for s in parse_specs(data)]
    if getattr(args, "recipe", None):
        from training.recipes import named_recipe

        paths = {s.name: s.path for s in parse_specs(args.data)}
        soft = None if args.labels is None else args.labels == "soft"
        config = named_recipe(
            args.recipe, task, paths, seed=args.seed, epochs=args.epochs, soft_labels=soft
        )
        config.fit = FitOptions(**{**config.fit.__dict__, "verbose": 2 if args.quiet else 1})
        if task == "micro" and args.recipe in NEEDS_START and not args.init_from:
            raise DataError(f"--recipe {args.recipe} continues a saved run: give --init-from RUN")
        config.init_from = args.init_from
        return config
    extra = MASKED_PROXY_MAP if args.masked_proxy else []
    class_map, class_maps = _scoped_maps((args.class_map or []) + extra, names)
    skips = {"": unscoped(args.skip_folder)}
    for name in names:
        own = [f for f in scoped(args.skip_folder, name) if f not in skips[""]]
        if own:
            skips[name] = own
    oversample = {}
    for pair in args.oversample or []:
        name, sep, times = pair.partition("=")
        if not sep or not times.isdigit():
            raise DataError(f"bad --oversample {pair!r}; expected NAME=TIMES")
        oversample[name] = int(times)
    return RunConfig(
        data=data,
        task=task,
        arch=args.arch,
        size=args.size,
        face_region=args.face_region or ("upper" if task == "masked" else "full"),
        split=args.split,
        test_size=args.test_size,
        val_size=args.val_size,
        seed=args.seed,
        weights=args.weights,
        subject_regex=args.subject_regex,
        class_map=class_map,
        class_maps=class_maps,
        skip_folders={k: v for k, v in skips.items() if v},
        oversample=oversample,
        calibrate=args.calibrate,
        calibration=args.calibration,
        variant=args.variant,
        dataset_name=args.dataset_name,
        init_from=args.init_from,
        fit=FitOptions(
            epochs=args.epochs or FitOptions.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            augment=not args.no_augment,
            augment_policy=args.augment_policy,
            class_weights=args.class_weights,
            class_weight_power=args.class_weight_power,
            soft_labels=args.soft_labels,
            cosine=args.cosine,
            early_stopping=args.early_stopping,
            reduce_lr=args.reduce_lr,
            verbose=2 if args.quiet else 1,
        ),
    )


def _summary(metrics: dict) -> str:
    return f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}"


def _details(metrics: dict) -> str:
    """Accuracy/macro-F1, plus the rest-class rate, expression-only figures and ECE if known."""
    text = (
        _summary(metrics) + f" ({sum(v['support'] for v in metrics['per_class'].values())} images)"
    )
    if metrics.get("rest_rate") is not None:
        text += f"; {metrics['rest_class']} rate {metrics['rest_rate']:.3f}"
    if "expressions" in metrics:
        e = metrics["expressions"]
        text += (
            f"; expressions only: accuracy {e['argmax_all']['accuracy']:.3f} / macro-F1 "
            f"{e['argmax_all']['macro_f1']:.3f} (restricted {e['restricted']['accuracy']:.3f} / "
            f"{e['restricted']['macro_f1']:.3f})"
        )
    if "ece" in metrics:
        text += f"; ECE {metrics['ece']:.3f}"
    return text


def cmd_list_archs(args: argparse.Namespace) -> int:
    for spec in SPECS.values():
        print(
            f"{spec.name:15s} default {spec.default_size:3d} px (min {spec.min_size:3d})  "
            f"{spec.description}"
        )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training import pipeline
    from training.export import export_model

    config = _config(args)
    config.input_size  # noqa: B018 - validates the arch before any data is read
    result = pipeline.run(config)
    out = Path(args.out or f"runs/{config.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    pipeline.save_run(result, out)
    _log_skipped(result.dataset.skipped)
    print(
        f"{config.name}: held-out {_summary(result.metrics)} "
        f"({len(result.test_index)} images); run saved to {out}"
    )
    if args.export:
        version = export_model(result.model, args.export, result.card())
        print(f"exported {version.name} version {version.version} to {version.path}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training import pipeline
    from training.evaluate import write_report

    if args.run:
        config, info, model = pipeline.load_run(Path(args.run))
        result = pipeline.evaluate_saved(config, info, model, data=args.data)
        out = Path(args.out or args.run)
        stem = "cross" if args.data else "evaluation"
        json_path, _ = write_report(result["pooled"], out, stem=stem)
        for name, metrics in result["datasets"].items():
            write_report(metrics, out, stem=f"{stem}-{name}")
            print(f"{config.name} on {name}: {_details(metrics)}")
        print(f"{config.name} pooled: {_summary(result['pooled'])}; wrote {json_path} (+ per set)")
        return 0
    if not args.data:
        raise DataError("evaluate needs --run DIR or --data with --folds")
    config = _config(args)
    config.input_size  # noqa: B018
    summary = pipeline.cross_validate(config, args.folds)
    out = Path(args.out or f"runs/{config.name}-cv{args.folds}-{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    for i, fold in enumerate(summary["folds"]):
        write_report(fold, out, stem=f"fold{i + 1}")
    write_report(summary["pooled"], out, stem="pooled")
    (out / "cross_validation.json").write_text(json.dumps(summary, indent=2) + "\n")
    for key in ("accuracy", "macro_f1"):
        s = summary["summary"][key]
        print(
            f"{key}: mean {s['mean']:.3f} ± {s['std']:.3f} over {args.folds} subject folds "
            f"(min {s['min']:.3f}, max {s['max']:.3f})"
        )
    print(f"wrote {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from training import pipeline
    from training.export import export_model

    _, info, model = pipeline.load_run(Path(args.run))
    version = export_model(model, args.repository, info["card"], base_path=args.base_path)
    print(f"exported {version.name} version {version.version} to {version.path}")
    return 0


def cmd_all(args: argparse.Namespace) -> int:
    from training.benchmark import run_all

    run_all(
        data=args.data,
        repository=Path(args.repository),
        card=Path(args.card),
        archs=args.archs,
        tasks=args.tasks,
        epochs=args.epochs,
        seed=args.seed,
        runs_dir=Path(args.runs),
    )
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from training.cost import predict_ms_per_face

    dirs = [Path(d) for d in args.versions]
    ms = predict_ms_per_face(dirs, batch=args.batch, rounds=args.rounds)
    base = ms[str(dirs[0])]
    for key, value in ms.items():
        print(f"{key}: {value:.3f} ms per face (batch {args.batch}), {value / base:.2f}x the first")
    if args.out:
        Path(args.out).write_text(json.dumps({"batch": args.batch, "ms_per_face": ms}, indent=2))
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from training import results
    from training.benchmark import RESULTS, rebuild_card

    card, stored = Path(args.card), Path(args.results)
    if not (Path(args.runs) / RESULTS).is_file() and not stored.is_dir():
        raise FileNotFoundError(f"neither {Path(args.runs) / RESULTS} nor {stored} exists")
    if (Path(args.runs) / RESULTS).is_file():
        rebuild_card(Path(args.runs), card, Path(args.shipped))
    records = results.load_records(stored) if stored.is_dir() else []
    if records:
        intro = stored / results.INTRO
        text = intro.read_text().splitlines() if intro.is_file() else []
        results.replace_block(card, results.render_block(records, text, stored))
    print(f"wrote {card} ({len(records)} stored multi-dataset result(s) from {stored})")
    return 0


def cmd_archs(args: argparse.Namespace) -> int:
    from training.arch_table import render, run_table
    from training.sources import parse_specs

    sizes = {}
    for pair in args.size or []:
        arch, sep, px = pair.partition("=")
        if not sep or not px.isdigit() or arch not in SPECS:
            raise DataError(f"bad --size {pair!r}; expected ARCH=PX with ARCH one of {list(SPECS)}")
        sizes[arch] = int(px)
    table = run_table(
        {s.name: s.path for s in parse_specs(args.data)},
        Path(args.out),
        archs=args.archs,
        epochs=args.epochs,
        fer_images=args.fer_images,
        sizes=sizes,
        weights=args.weights,
        seed=args.seed,
    )
    print("\n".join(render(table)))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from training import results

    if args.run:
        record = results.record_from_run(Path(args.run), args.label, shipped=args.shipped)
    else:
        record = results.record_from_version(Path(args.version), args.label, args.runtime)
    print(f"wrote {results.write_record(record, Path(args.out))}")
    return 0


def cmd_recalibrate(args: argparse.Namespace) -> int:
    from training import pipeline

    result = pipeline.recalibrate(Path(args.run), args.method, args.rest_min_recall)
    pipeline.save_run(result, Path(args.out))
    for name, metrics in result.per_dataset.items():
        print(f"{result.config.name} on {name}: {_details(metrics)}")
    print(f"temperature {result.temperature:.3f}, offsets {result.bias}; saved to {args.out}")
    return 0


def cmd_masked_proxy(args: argparse.Namespace) -> int:
    import json as _json

    from training.masked_proxy import build

    subjects = None
    if args.card:
        card = _json.loads((Path(args.card) / "assets.extra" / "mmed.json").read_text())
        subjects = set(card["evaluation"]["held_out_subject_ids"])
    counts = build(args.data, args.out, subjects=subjects, subject_regex=args.subject_regex)
    print(f"wrote the masked PROXY set {args.out}: {counts}")
    return 0


def _log_skipped(skipped: list) -> None:
    if skipped:
        log.warning("%d unreadable image(s) skipped", len(skipped))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    sub.add_parser("list-archs", help="the six architectures and their input sizes")

    p = sub.add_parser("train", help="train one model, evaluate it on held-out data")
    _add_data_args(p)
    _add_recipe_args(p)
    p.add_argument("--out", help="run directory (default runs/<name>-<time>)")
    p.add_argument("--export", metavar="REPOSITORY", help="also export into this repository")

    p = sub.add_parser("evaluate", help="evaluate a saved run, or k-fold by subject")
    p.add_argument("--run", help="a run directory from `train` (evaluates its held-out split)")
    p.add_argument("--folds", type=int, default=5, help="subject folds when no --run is given")
    p.add_argument("--out", help="output directory")
    _add_data_args(p, "with --run: evaluate on this whole folder instead; else: the data")
    _add_recipe_args(p)

    p = sub.add_parser(
        "recalibrate", help="refit a saved run's calibration on its validation split"
    )
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True, help="new run directory")
    p.add_argument("--method", choices=CALIBRATIONS, default="bcts")
    p.add_argument(
        "--rest-min-recall",
        type=float,
        help="temperature-rest: the validation recall the rest class must keep",
    )

    p = sub.add_parser(
        "masked-proxy",
        help="build a masked-expression PROXY set: angry/sad upper face on the same "
        "subject's smile (+ genuine smiles as none)",
    )
    p.add_argument("--data", required=True, help="posed class-per-folder set (e.g. ckplus5)")
    p.add_argument("--out", required=True)
    p.add_argument("--card", help="an exported version dir: only its held-out subjects")
    p.add_argument("--subject-regex", default=DEFAULT_SUBJECT_RE)

    p = sub.add_parser("export", help="export a saved run into a model repository")
    p.add_argument("--run", required=True)
    p.add_argument("--repository", default="model_repository")
    p.add_argument("--base-path", default="/models", help="model base path inside TF Serving")

    p = sub.add_parser("all", help="train + export every arch for both tasks, write the card")
    p.add_argument("--data", required=True)
    p.add_argument("--repository", default="build/model_repository")
    p.add_argument("--card", default="docs/model-card.md")
    p.add_argument("--archs", nargs="+", default=list(SPECS), choices=list(SPECS))
    p.add_argument("--tasks", nargs="+", default=["micro", "masked"], choices=["micro", "masked"])
    p.add_argument("--epochs", type=int, help="override every arch's epoch budget")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", default="runs/all", help="where run directories go")

    p = sub.add_parser("card", help="re-render the model card from a finished `all` run")
    p.add_argument("--runs", default="runs/all", help="the `all` run directory")
    p.add_argument("--card", default="docs/model-card.md")
    p.add_argument("--shipped", default="model_repository", help="the shipped repository")
    p.add_argument(
        "--results", default="docs/results", help="stored multi-dataset results (`record`)"
    )

    p = sub.add_parser(
        "archs", help="the six architectures on CK+ + FER+ within a capped budget (v3 recipe)"
    )
    p.add_argument("--data", action="append", required=True, metavar="NAME=PATH")
    p.add_argument("--out", default="docs/results/archs.json")
    p.add_argument("--archs", nargs="+", default=list(SPECS), choices=list(SPECS))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--fer-images", type=int, default=1000, help="FER+ train images (subsample)")
    p.add_argument("--size", action="append", metavar="ARCH=PX", help="input size of one arch")
    p.add_argument("--weights", default="none", help="none | imagenet | PATH (backbones)")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser(
        "record", help="store a run's (or exported version's) held-out figures for the card"
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="a run directory from `train`")
    src.add_argument("--version", help="an exported version directory (re-evaluated)")
    p.add_argument("--label", required=True, help="recipe label, e.g. v3 or v2-hard")
    p.add_argument("--shipped", help="with --run: the version it was exported as")
    p.add_argument(
        "--runtime",
        choices=get_args(RecordRuntime),
        default="savedmodel",
        help="with --version: the gateway runtime that answers (int8: the companion)",
    )
    p.add_argument("--out", default="docs/results")

    p = sub.add_parser(
        "cost", help="predict ms per face of exported versions (timed round-robin, CPU)"
    )
    p.add_argument("versions", nargs="+", help="exported version directories; ratios vs the first")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--out", help="also write the figures to this JSON file")

    spot_eval.add_parser(sub)
    tta.add_parser(sub)
    rehead.add_parser(sub)
    unexport.add_parser(sub)
    quantize.add_parser(sub)
    return root


COMMANDS = {
    "list-archs": cmd_list_archs,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "export": cmd_export,
    "masked-proxy": cmd_masked_proxy,
    "recalibrate": cmd_recalibrate,
    "all": cmd_all,
    "card": cmd_card,
    "cost": cmd_cost,
    "record": cmd_record,
    "archs": cmd_archs,
    "spot-eval": spot_eval.cmd_spot_eval,
    "tta-eval": tta.cmd_tta_eval,
    "rehead": rehead.cmd_rehead,
    "unexport": unexport.cmd_unexport,
    "quantize": quantize.cmd_quantize,
}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (DataError, UnknownArchError, FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
