"""The ``synthcare`` command line.

Exit codes: 0 the synthetic table was published. 2 an option was rejected, or the input was
rejected or a step failed (then ``error.json`` records the reason). 3 the report was written
but the privacy gate withheld the synthetic table.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields

from synthcare import __version__
from synthcare.errors import ConfigError, SynthcareError
from synthcare.pipeline import RunFailed, run_local
from synthcare.progress import TerminalProgress, quiet_library_logging
from synthcare.samples import SAMPLE_PREFIX, SAMPLES
from synthcare.steps import DEFAULT_PRIVACY_THRESHOLD
from synthcare.synthesizers import MODELS, TrainingConfig

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_WITHHELD = 3


def _parse_condition(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"condition {text!r} is not COLUMN=VALUE")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``synthcare`` command."""
    samples = ", ".join(f"{SAMPLE_PREFIX}{name}" for name in SAMPLES)
    parser = argparse.ArgumentParser(
        prog="synthcare",
        description="Privacy-preserving synthetic clinical tables with a fidelity and privacy report.",  # noqa: E501
    )
    parser.add_argument("--version", action="version", version=f"synthcare {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="validate, train, generate, evaluate and write the report",
        description=(
            "Learn the statistical shape of a table and write DIR/synthetic.csv, "
            "DIR/report.json and DIR/report.html. Exit code 0: published; 2: rejected input "
            "or failed step (DIR/error.json says why); 3: withheld by the privacy gate."
        ),
    )
    run.add_argument(
        "input",
        metavar="INPUT",
        help=f"CSV, .xlsx or .parquet file, or a packaged real table: {samples}",
    )
    run.add_argument("--out", required=True, metavar="DIR", help="folder for the report files")
    run.add_argument(
        "--model",
        choices=MODELS,
        default="auto",
        help=(
            "synthesizer; auto (default) cross-fits the candidates, scores them on the rows "
            "each fit did not see, and keeps the first within one standard error of the best "
            "that passes the privacy check"
        ),
    )
    run.add_argument(
        "--rows", type=int, metavar="N", help="rows to generate (default: the real row count)"
    )
    run.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed gives the same table (default 0)",
    )
    run.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="training epochs of CTGAN, TVAE and CopulaGAN (default: sized to the table)",
    )
    run.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help=(
            "training batch size in rows of CTGAN, TVAE and CopulaGAN (default: sized to the table)"
        ),
    )
    run.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help=(
            "wall-clock seconds the auto model search may spend "
            f"(default {TrainingConfig.time_budget:g})"
        ),
    )
    run.add_argument(
        "--metadata", metavar="FILE", help="SDV metadata JSON that overrides column detection"
    )
    run.add_argument(
        "--condition",
        action="append",
        type=_parse_condition,
        default=[],
        metavar="COLUMN=VALUE",
        help="generate only rows with this value; repeat for several columns",
    )
    run.add_argument(
        "--privacy-threshold",
        type=float,
        default=DEFAULT_PRIVACY_THRESHOLD,
        metavar="SHARE",
        help=(
            "highest DCR holdout share (0 to 1) that still publishes the table; above it the "
            f"synthetic table is withheld (default {DEFAULT_PRIVACY_THRESHOLD})"
        ),
    )
    run.add_argument("--quiet", action="store_true", help="print only the result and errors")
    return parser


def _training_config(args: argparse.Namespace) -> TrainingConfig:
    values = {"model": args.model, "seed": args.seed}
    names = {field.name for field in fields(TrainingConfig)}
    for option, name in (
        ("epochs", "epochs"),
        ("batch_size", "batch_size"),
        ("time_budget", "time_budget"),
    ):
        value = getattr(args, option)
        if value is not None and name in names:
            values[name] = value
    # from_hyperparameters checks every value and raises ConfigError with the option named.
    return TrainingConfig.from_hyperparameters({key: str(value) for key, value in values.items()})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``synthcare`` command and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_library_logging()

    progress = None if args.quiet else TerminalProgress()
    try:
        config = _training_config(args)
        if args.rows is not None and args.rows < 1:
            raise ConfigError(f"--rows must be at least 1, got {args.rows}")
        result = run_local(
            args.input,
            args.out,
            config,
            rows=args.rows,
            metadata=args.metadata,
            conditions=dict(args.condition) or None,
            privacy_threshold=args.privacy_threshold,
            progress=progress,
        )
    except RunFailed as failure:
        _close(progress)
        print(f"synthcare: error in step {failure.step}: {failure}", file=sys.stderr)
        print(f"synthcare: error report written to {failure.error_file}", file=sys.stderr)
        return EXIT_ERROR
    except SynthcareError as error:
        _close(progress)
        print(f"synthcare: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    _close(progress)

    summary = result.report["summary"]
    print(_format_summary(summary))
    print(f"report: {result.out_dir / 'report.html'}")
    print(f"report data: {result.out_dir / 'report.json'}")
    if not result.published:
        print(f"synthetic table withheld: {result.report['privacy']['gate']['reason']}")
        return EXIT_WITHHELD
    print(f"synthetic table: {result.out_dir / 'synthetic.csv'}")
    return EXIT_OK


def _format_summary(summary: dict) -> str:
    def number(key: str) -> str:
        value = summary.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (
        f"model {summary['model']}: mean KS complement {number('ks_mean_complement')} "
        f"(holdout {number('holdout_ks_mean_complement')}, "
        f"real-vs-real baseline {number('baseline_ks_mean_complement')}), "
        f"DCR holdout share {number('dcr_holdout_share')}, "
        f"exact copies replaced {summary.get('exact_copies_replaced', 0)} "
        f"of {summary['exact_copies_removed']}"
    )


def _close(progress) -> None:
    if progress is not None:
        progress.close()


if __name__ == "__main__":
    sys.exit(main())
