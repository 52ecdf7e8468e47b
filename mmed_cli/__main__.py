"""``mmed`` command line: ``mmed predict FILE...``, ``mmed analyze FILE...`` (jobs) and
``mmed models``.

The server and API key come from ``--server`` / ``--api-key`` or the ``MMED_SERVER`` /
``MMED_API_KEY`` environment variables. Exit status: 0 all files labelled, 1 some file or
the server failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from mmed_cli import output
from mmed_cli.api import (
    DEFAULT_SERVER,
    PredictOptions,
    ProblemError,
    ServerError,
    list_models,
    make_client,
    predict,
)
from mmed_cli.outcome import Outcome, Result


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmed", description="Label hidden emotions in images and videos with MMED Serve."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--server",
        default=os.environ.get("MMED_SERVER", DEFAULT_SERVER),
        help=f"gateway base URL (env MMED_SERVER; default {DEFAULT_SERVER})",
    )
    common.add_argument(
        "--api-key",
        default=os.environ.get("MMED_API_KEY"),
        help="sent as X-API-Key (env MMED_API_KEY)",
    )
    common.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per request (default 300)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("predict", parents=[common], help="label the faces in images and videos")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="images and videos")
    p.add_argument("--task", choices=["micro", "masked"], help="default: micro")
    p.add_argument("--model", help="a model name from `mmed models`")
    p.add_argument("--version", type=_positive_int, help="model version (default: highest)")
    p.add_argument(
        "--sample-interval",
        type=_non_negative,
        help="seconds between sampled video frames; 0 = every frame (server default 0.5)",
    )
    p.add_argument(
        "--no-detect-faces",
        dest="detect_faces",
        action="store_false",
        default=None,
        help="treat the whole image as the face box",
    )
    p.add_argument("--max-frames", type=_positive_int, help="most frames sampled per file")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the typed results as JSON")
    fmt.add_argument("--csv", action="store_true", help="print one CSV row per sampled frame")
    p.add_argument("--frames", action="store_true", help="table: also list every sampled frame")
    p.add_argument(
        "--events",
        action="store_true",
        help="table: also list the spotted expression events (videos; implies "
        "--sample-interval 0 unless given)",
    )
    p.add_argument(
        "--plot", type=Path, metavar="OUT.png", help="draw probability timelines (a panel per file)"
    )
    p.add_argument(
        "--annotate",
        type=Path,
        metavar="OUT.mp4",
        help="write the sampled frames with face box and label (several files: OUT-<name>.mp4)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    a = sub.add_parser(
        "analyze",
        parents=[common],
        help="analyse whole recordings as server-side jobs (resumable; every frame by default)",
    )
    a.add_argument("files", nargs="*", type=Path, metavar="FILE", help="videos and images")
    a.add_argument(
        "--job",
        action="append",
        default=[],
        metavar="ID",
        help="follow a job already submitted (after Ctrl-C); repeatable",
    )
    for action in p._actions:  # the same options and outputs as `mmed predict`
        if action.dest in ("help", "files", "server", "api_key", "timeout", "annotate"):
            continue
        if action.dest == "sample_interval":
            a.add_argument(
                "--sample-interval",
                type=_non_negative,
                default=0.0,
                help="seconds between sampled frames (default 0: every frame)",
            )
            continue
        a._add_action(action)
    a.add_argument("--poll", type=float, default=1.0, help="seconds between progress polls")

    m = sub.add_parser("models", parents=[common], help="list the model catalogue")
    m.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    return parser


def annotated_path(out: Path, source: Path, taken: set[Path]) -> Path:
    """``out`` itself for one file; ``OUT-<source stem>[-N].ext`` when there are several."""
    candidate = out.with_name(f"{out.stem}-{source.stem}{out.suffix}")
    n = 2
    while candidate in taken:
        candidate = out.with_name(f"{out.stem}-{source.stem}-{n}{out.suffix}")
        n += 1
    taken.add(candidate)
    return candidate


def run_predict(args: argparse.Namespace) -> int:
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"mmed: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    outcomes = predict_files(args)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"mmed: {o.path}: {o.message}", file=sys.stderr)
    print_outcomes(args, outcomes)
    done = [(o.path, o.result) for o in outcomes if o.result is not None]
    if args.plot and done:
        from mmed_cli.plot import plot_timelines

        plot_timelines([(p.name, r) for p, r in done], args.plot)
        print(f"mmed: wrote {args.plot}", file=sys.stderr)
    if args.annotate and done:
        failed += write_annotations(args, done)
    return 1 if failed else 0


def predict_files(args: argparse.Namespace) -> list[Outcome]:
    """One outcome per file in ``args.files``: its answer, its problem or its error."""
    interval = args.sample_interval
    if args.events and interval is None:
        interval = 0.0  # events are computed on every frame only
    options = PredictOptions(
        task=args.task,
        model=args.model,
        version=args.version,
        sample_interval=interval,
        detect_faces=args.detect_faces,
        max_frames=args.max_frames,
    )
    outcomes: list[Outcome] = []
    progress = tqdm(
        args.files,
        desc="predict",
        unit="file",
        disable=args.quiet or len(args.files) < 2,
        file=sys.stderr,
    )
    with make_client(args.server, args.api_key, args.timeout) as client:
        for path in progress:
            progress.set_postfix_str(path.name, refresh=False)
            try:
                outcomes.append(Outcome(path, result=predict(client, path, options)))
            except ProblemError as exc:
                outcomes.append(Outcome(path, problem=exc.problem))
            except ServerError as exc:
                outcomes.append(Outcome(path, error=str(exc)))
    progress.close()
    return outcomes


def print_outcomes(args: argparse.Namespace, outcomes: list[Outcome]) -> None:
    """JSON, CSV or the summary table (and per-frame tables with --frames) on stdout."""
    if args.json:
        output.write_json(outcomes, sys.stdout)
    elif args.csv:
        output.write_csv(outcomes, sys.stdout)
    else:
        print(output.summary_table(outcomes))
        if args.frames:
            for o in outcomes:
                if o.result is not None:
                    print(f"\n{o.path}\n{output.frames_table(o.result)}")
        if args.events:
            for o in outcomes:
                if o.result is not None:
                    print(f"\n{o.path}: events\n{output.events_table(o.result)}")


def write_annotations(args: argparse.Namespace, done: list[tuple[Path, Result]]) -> list[Outcome]:
    """Annotated copies of the answered files; the outcomes of those that failed."""
    from mmed_cli.annotate import annotate

    failed: list[Outcome] = []
    taken: set[Path] = set()
    for path, result in done:
        target = (
            args.annotate if len(args.files) == 1 else annotated_path(args.annotate, path, taken)
        )
        try:
            count = annotate(path, result, target)
        except (ValueError, RuntimeError, OSError) as exc:
            print(f"mmed: {path}: cannot annotate: {exc}", file=sys.stderr)
            failed.append(Outcome(path, error=str(exc)))
            continue
        print(f"mmed: wrote {target} ({count} frames)", file=sys.stderr)
    return failed


def run_analyze(args: argparse.Namespace) -> int:
    from mmed_cli import jobs

    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        print(f"mmed: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not args.files and not args.job:
        print("mmed: give files to analyse or --job ID", file=sys.stderr)
        return 2
    options = PredictOptions(
        task=args.task,
        model=args.model,
        version=args.version,
        sample_interval=args.sample_interval,
        detect_faces=args.detect_faces,
        max_frames=args.max_frames,
    )
    outcomes: list[Outcome] = []
    with make_client(args.server, args.api_key, args.timeout) as client:
        targets: list[tuple[Path, str | None]] = [(f, None) for f in args.files]
        targets += [(Path(job_id), job_id) for job_id in args.job]
        for path, job_id in targets:
            job = None
            try:
                job = jobs.get_job(client, job_id) if job_id else jobs.submit(client, path, options)
                print(f"mmed: {path}: job {job.id}", file=sys.stderr)
                job = jobs.follow_with_bar(client, job, path.name, args.quiet, args.poll)
                if job.status != "succeeded":
                    detail = job.error.detail if job.error else job.status
                    outcomes.append(Outcome(path, error=f"job {job.id} {job.status}: {detail}"))
                    continue
                outcomes.append(Outcome(path, result=jobs.result(client, job.id)))
            except KeyboardInterrupt:
                if job is not None:
                    print(
                        f"\nmmed: job {job.id} goes on on the server; resume with: "
                        f"mmed analyze --job {job.id}",
                        file=sys.stderr,
                    )
                return 130
            except ProblemError as exc:
                outcomes.append(Outcome(path, problem=exc.problem))
            except ServerError as exc:
                outcomes.append(Outcome(path, error=str(exc)))
    return _report(outcomes, args)


def _report(outcomes: list[Outcome], args: argparse.Namespace) -> int:
    """Print and plot like ``mmed predict``; exit 1 when some file failed."""
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"mmed: {o.path}: {o.message}", file=sys.stderr)
    if args.json:
        output.write_json(outcomes, sys.stdout)
    elif args.csv:
        output.write_csv(outcomes, sys.stdout)
    else:
        print(output.summary_table(outcomes))
        if args.frames:
            for o in outcomes:
                if o.result is not None:
                    print(f"\n{o.path}\n{output.frames_table(o.result)}")
    done = [(o.path, o.result) for o in outcomes if o.result is not None]
    if args.plot and done:
        from mmed_cli.plot import plot_timelines

        plot_timelines([(p.name, r) for p, r in done], args.plot)
        print(f"mmed: wrote {args.plot}", file=sys.stderr)
    return 1 if failed else 0


def run_models(args: argparse.Namespace) -> int:
    with make_client(args.server, args.api_key, args.timeout) as client:
        try:
            catalogue = list_models(client)
        except ProblemError as exc:
            print(f"mmed: {exc}", file=sys.stderr)
            return 1
        except ServerError as exc:
            print(f"mmed: {exc}", file=sys.stderr)
            return 1
    if args.json:
        json.dump(catalogue.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(output.models_table(catalogue))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The ``mmed`` console script; ends quietly when stdout is closed early (``| head``)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # Python's recipe: point stdout at devnull so the exit flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "predict":
        if args.plot and args.plot.suffix.lower() != ".png":
            parser.error("--plot writes a PNG: give a .png path")
        if args.annotate:
            from mmed_cli.annotate import CODECS

            if args.annotate.suffix.lower() not in CODECS:
                parser.error(f"--annotate: use one of {', '.join(CODECS)}")
        return run_predict(args)
    if args.command == "analyze":
        if args.plot and args.plot.suffix.lower() != ".png":
            parser.error("--plot writes a PNG: give a .png path")
        return run_analyze(args)
    return run_models(args)


if __name__ == "__main__":
    sys.exit(main())
