"""Synthesizers: training options, fitting, seeded sampling.

Every model is fitted on the output of :class:`~synthcare.transforms.TableTransformer` (sentinel
codes, zero inflation, long tails and few-level integers handled before fitting and undone after
sampling). The models are the empirical-marginal Gaussian copula of :mod:`synthcare.copula` and
four SDV 2.0.0 synthesizers: CTGAN, TVAE, GaussianCopula and CopulaGAN. ``auto`` picks one of
them per table with a holdout search (see :mod:`synthcare.selection`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from synthcare.copula import EmpiricalCopula
from synthcare.errors import ConfigError, GenerationError, TrainingError
from synthcare.transforms import ModelColumn, TableTransformer, column_kinds

logger = logging.getLogger(__name__)

AUTO = "auto"
EMPIRICAL_COPULA = "empirical_copula"
GAUSSIAN_COPULA = "gaussian_copula"
CTGAN = "ctgan"
TVAE = "tvae"
COPULAGAN = "copulagan"
MODELS = (AUTO, CTGAN, TVAE, GAUSSIAN_COPULA, COPULAGAN, EMPIRICAL_COPULA)
NEURAL_MODELS = (CTGAN, TVAE, COPULAGAN)

# Generator updates aimed at when the epochs are not given. Stock CTGAN (batch 500, 300 epochs)
# gives a 60-row table 300 updates, too few to leave the initial noise behind.
TARGET_UPDATES = 3000
MIN_EPOCHS = 10
MAX_EPOCHS = 2000
MAX_BATCH_SIZE = 500
COPULA_SMOOTHING_ROWS = 200
SIZED_FOR_ROWS = "sized_for_rows"
# NumPy's legacy global seeding, which SDV and the seeded() block use, takes seeds below 2**32.
MAX_SEED = 2**32 - 1
WIDE_ROWS_PER_COLUMN = 10

# NOTE: the networks are small (two layers of 256), so a second intra-op thread gains little.
# On a loaded 2-core machine (load average 7), two threads made a 60-epoch CTGAN fit on 60 rows
# take 198 s against 4.6 s with one thread, so fitting and sampling use one thread.
TORCH_THREADS = 1

_SDV_TABLE = "table"

Progress = Any  # callable(stage, done, total, message="") or None


@dataclass
class TrainingConfig:
    """Options of the train step.

    Attributes:
        model: one of :data:`MODELS`. ``auto`` searches the candidates on a holdout split.
        epochs: training epochs of CTGAN, TVAE and CopulaGAN. None picks them from the table
            size so that a small table still gets about 3000 generator updates.
        batch_size: rows per training batch of the neural models. None picks an even multiple of
            ``pac`` of at most a third of the table (and at most 500).
        pac: rows per discriminator pack of CTGAN and CopulaGAN. None picks 10 for tables of 500
            rows or more and 5 below.
        seed: seed of fitting and of the default sampling; the same seed gives the same model.
        time_budget: seconds that ``auto`` may spend on its search and final fit. A short budget
            scales down or skips the neural candidates (TVAE, CTGAN) first. With the default of
            60, ``synthcare run sample:diabetes`` (442 rows) took 34 s on two shared cores.
    """

    model: str = AUTO
    epochs: int | None = None
    batch_size: int | None = None
    pac: int | None = None
    seed: int = 0
    time_budget: float = 60.0

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}: choose one of {', '.join(MODELS)}")
        for name in ("epochs", "batch_size", "pac"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
                raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.batch_size is not None and self.batch_size % 2:
            raise ConfigError(f"batch_size must be even, got {self.batch_size}")
        if self.batch_size is not None and self.pac is not None and self.batch_size % self.pac:
            raise ConfigError(f"batch_size {self.batch_size} must be a multiple of pac {self.pac}")
        if (
            isinstance(self.seed, bool)
            or int(self.seed) != self.seed
            or not 0 <= self.seed <= MAX_SEED
        ):
            raise ConfigError(
                f"seed must be a whole number from 0 to {MAX_SEED}, got {self.seed!r}"
            )
        if not self.time_budget > 0:
            raise ConfigError(
                f"time_budget must be a positive number of seconds, got {self.time_budget!r}"
            )

    @classmethod
    def from_hyperparameters(cls, hyperparameters: dict[str, str]) -> TrainingConfig:
        """Build a config from SageMaker hyperparameters, whose values are all strings.

        Args:
            hyperparameters: ``{name: text}`` with names among the fields of this class. An
                empty text or ``none`` leaves an optional field unset.

        Returns:
            The config.

        Raises:
            ConfigError: on an unknown name or a value that does not parse.
        """
        known = {field.name for field in fields(cls)}
        values: dict[str, Any] = {}
        for name, text in hyperparameters.items():
            if name not in known:
                raise ConfigError(
                    f"unknown hyperparameter {name!r}: use one of {', '.join(sorted(known))}"
                )
            values[name] = _parse_hyperparameter(name, text)
        return cls(**values)

    def to_hyperparameters(self) -> dict[str, str]:
        """Return the config as SageMaker hyperparameters (strings), leaving unset fields out."""
        return {name: str(value) for name, value in asdict(self).items() if value is not None}


def _parse_hyperparameter(name: str, text: Any) -> Any:
    value = str(text).strip()
    if name == "model":
        return value.lower()
    if name in ("epochs", "batch_size", "pac") and value.lower() in ("", "none", "null"):
        return None
    try:
        if name == "time_budget":
            return float(value)
        number = float(value)
    except ValueError as error:
        raise ConfigError(f"hyperparameter {name} must be a number, got {text!r}") from error
    if number != int(number):
        raise ConfigError(f"hyperparameter {name} must be a whole number, got {text!r}")
    return int(number)


# ---------------------------------------------------------------------- neural model sizing


def neural_parameters(model: str, rows: int, config: TrainingConfig) -> dict[str, int]:
    """Choose batch size, pac and epochs of a neural model for a table of ``rows`` rows.

    The batch size is even, a multiple of pac, and not larger than the table. The epochs give
    about :data:`TARGET_UPDATES` generator updates (CTGAN runs ``rows // batch_size`` updates
    per epoch), bounded by :data:`MIN_EPOCHS` and :data:`MAX_EPOCHS`.

    Args:
        model: ``ctgan``, ``tvae`` or ``copulagan``.
        rows: rows of the table to fit.
        config: explicit ``epochs``, ``batch_size`` and ``pac`` win over the defaults.

    Returns:
        ``{"batch_size", "epochs"}`` plus ``"pac"`` for CTGAN and CopulaGAN.

    Raises:
        ConfigError: if an explicit batch size exceeds the table or does not fit pac.
    """
    uses_pac = model in (CTGAN, COPULAGAN)
    pac = 1
    if uses_pac:
        pac = config.pac or (10 if rows >= 500 else 5)
        while pac > 1 and 2 * pac > rows:
            pac -= 1
    step = math.lcm(2, pac)

    batch = config.batch_size
    if batch is None:
        batch = min(MAX_BATCH_SIZE, (rows // 3) // step * step)
        batch = max(batch, step)
        if batch > rows:
            batch = max(2, rows // 2 * 2)
            pac = 1 if batch % pac else pac
    elif batch > rows:
        raise ConfigError(
            f"batch_size {batch} is larger than the table ({rows} rows): use at most {rows}"
        )
    if uses_pac and batch % pac:
        raise ConfigError(f"batch_size {batch} must be a multiple of pac {pac}")

    epochs = config.epochs
    if epochs is None:
        updates_per_epoch = max(rows // batch, 1)
        epochs = int(np.clip(math.ceil(TARGET_UPDATES / updates_per_epoch), MIN_EPOCHS, MAX_EPOCHS))
    parameters = {"batch_size": int(batch), "epochs": int(epochs)}
    if uses_pac:
        parameters["pac"] = int(pac)
    return parameters


# ---------------------------------------------------------------------- seeding


def derived_seed(seed: int, offset: int) -> int:
    """Return the seed ``offset`` places after ``seed``, wrapped into 0 to :data:`MAX_SEED`."""
    return (seed + offset) % (MAX_SEED + 1)


@contextlib.contextmanager
def seeded(seed: int):
    """Seed Python, NumPy and torch for the block, then restore the previous global states.

    Torch also runs on :data:`TORCH_THREADS` threads inside the block.
    """
    import torch

    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    threads = torch.get_num_threads()
    # Fold and split seeds are the run's seed plus a small offset, so wrap them into range.
    seed %= MAX_SEED + 1
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(TORCH_THREADS)
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.set_rng_state(torch_state)
        torch.set_num_threads(threads)


# ---------------------------------------------------------------------- engines


class _CopulaEngine:
    """The empirical-marginal Gaussian copula on the model table.

    Small tables get a regularised copula: the correlation matrix is shrunk towards the identity
    by ``min(0.5, columns / rows)`` and continuous samples get kernel noise of Silverman's
    bandwidth below :data:`COPULA_SMOOTHING_ROWS` rows. On 30-row halves of a 60-row table
    this raised the holdout KS complement from 0.748 to 0.768 and lowered the DCR holdout share
    from 0.78 to 0.68; on 221-row halves of the diabetes table the shrinkage alone was best.

    Wide tables, with fewer than :data:`WIDE_ROWS_PER_COLUMN` rows per model column, get twice
    the shrinkage (up to the identity) and twice the bandwidth, because there every estimate is
    pulled towards the training rows and the pulls add up over the columns. On 60 random 70/30
    splits of the 15-column RA-like table (42 training rows) this lowered the DCR holdout share
    from 0.604 to 0.567, with a holdout KS complement of 0.763 against 0.765 and the same
    correlation similarity. Narrower tables (Arthritis, lung) gained nothing from it.

    Samples are stratified in continuous and ordered columns (see :mod:`synthcare.copula`). On
    40 random 70/30 splits each, this raised the holdout KS complement by 0.006 to 0.020 on the
    RA-like, Arthritis, lung, diabetes and PBC tables. The DCR holdout share stayed within 0.003,
    except on the RA-like table, where it rose from 0.560 to 0.576.
    """

    def __init__(self, seed: int, sized_for_rows: int | None = None) -> None:
        self.seed = seed
        # Row count that sets the regularisation. A fit on part of a table for the holdout
        # check passes the whole table's count, so it is regularised like the published model.
        self.sized_for_rows = sized_for_rows
        self.copula: EmpiricalCopula | None = None

    def fit(self, frame: pd.DataFrame, columns: list[ModelColumn]) -> dict:
        rows = max(self.sized_for_rows or len(frame), 1)
        parameters = {
            "jitter": 0.5,
            "shrinkage": round(min(0.5, len(columns) / rows), 4),
            "bandwidth": 1.0 if rows < COPULA_SMOOTHING_ROWS else 0.0,
            "level_smoothing": 0.0,
            "stratify": True,
        }
        if rows < WIDE_ROWS_PER_COLUMN * len(columns):
            parameters["shrinkage"] = round(min(1.0, 2 * len(columns) / rows), 4)
            parameters["bandwidth"] = 2.0
        self.copula = EmpiricalCopula(seed=self.seed, **parameters).fit(frame, columns)
        return parameters

    def sample(self, rows: int, seed: int, conditions: dict | None) -> pd.DataFrame:
        return self.copula.sample(rows, seed=seed, conditions=conditions)


class _SdvEngine:
    """One SDV 2.0.0 single-table synthesizer on the model table."""

    def __init__(self, model: str, config: TrainingConfig, parameters: dict | None = None) -> None:
        self.model = model
        self.config = config
        self.parameters = parameters
        self.synthesizer = None

    def fit(self, frame: pd.DataFrame, columns: list[ModelColumn]) -> dict:
        from sdv.metadata import Metadata

        metadata = Metadata.load_from_dict(
            {"columns": {c.name: _sdv_column(c) for c in columns}}, single_table_name=_SDV_TABLE
        )
        parameters = dict(self.parameters or {})
        if self.model in NEURAL_MODELS and not parameters:
            parameters = neural_parameters(self.model, len(frame), self.config)
        self.synthesizer = _sdv_class(self.model)(
            metadata,
            enforce_min_max_values=True,
            enforce_rounding=False,
            **({**parameters, "enable_gpu": False} if self.model in NEURAL_MODELS else {}),
        )
        with seeded(self.config.seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.synthesizer.fit({_SDV_TABLE: frame})
        return parameters

    def sample(self, rows: int, seed: int, conditions: dict | None) -> pd.DataFrame:
        from sdv.sampling import Condition

        # NOTE: _set_random_state is private SDV API, present in the pinned 2.0.0. SDV offers no
        # public way to give its own sampling a caller's seed instead of its fixed one.
        self.synthesizer._set_random_state(seed % (MAX_SEED + 1))
        with seeded(seed), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not conditions:
                sampled = self.synthesizer.sample(rows)
            else:
                condition = Condition(num_rows=rows, column_values=conditions)
                sampled = self.synthesizer.sample_from_conditions([condition])
        # SDV 2.0 takes and returns ``{table name: frame}`` even for a single table.
        return sampled[_SDV_TABLE] if isinstance(sampled, dict) else sampled


def _sdv_column(column: ModelColumn) -> dict:
    if column.role == "continuous":
        return {"sdtype": "numerical"}
    return {"sdtype": "categorical"}


def _sdv_class(model: str):
    from sdv.single_table import (
        CopulaGANSynthesizer,
        CTGANSynthesizer,
        GaussianCopulaSynthesizer,
        TVAESynthesizer,
    )

    return {
        CTGAN: CTGANSynthesizer,
        TVAE: TVAESynthesizer,
        GAUSSIAN_COPULA: GaussianCopulaSynthesizer,
        COPULAGAN: CopulaGANSynthesizer,
    }[model]


# ---------------------------------------------------------------------- fitted synthesizer


class FittedSynthesizer:
    """A fitted model with its column transforms; it samples typed rows and pickles.

    Attributes:
        model_name: the model that was fitted (the winner when ``auto`` was requested).
        info: JSON-serialisable facts about the fit: model, parameters, fit seconds, column
            transforms and, for ``auto``, every candidate's holdout scores.
        columns: the modelled columns, in table order, that :meth:`sample` returns.
    """

    def __init__(self, model_name: str, transformer: TableTransformer, engine, info: dict) -> None:
        self.model_name = model_name
        self.transformer = transformer
        self.engine = engine
        self.info = info
        self.columns = list(transformer.columns)

    def sample(self, rows: int, seed: int = 0, conditions: dict | None = None) -> pd.DataFrame:
        """Draw synthetic rows of the modelled columns.

        Args:
            rows: number of rows, at least 1.
            seed: the same seed gives the same rows.
            conditions: ``{column: value}`` fixed in every row; values may be given as text.

        Returns:
            Typed rows (nullable ``Int64`` for integers, ``float64``, ``string``, ``boolean``,
            ``datetime64[ns]``), one column per modelled column.

        Raises:
            GenerationError: on a bad row count or condition, or when sampling fails.
        """
        if isinstance(rows, bool) or int(rows) != rows or rows < 1:
            raise GenerationError(f"rows must be a whole number of at least 1, got {rows!r}")
        model_conditions = self._model_conditions(conditions or {})
        try:
            model_rows = self.engine.sample(int(rows), int(seed), model_conditions or None)
        except (ValueError, KeyError, RuntimeError) as error:
            raise GenerationError(
                f"sampling {rows} rows with conditions {conditions} failed: {error}. "
                "Relax the conditions or use the empirical_copula or gaussian_copula model"
            ) from error
        if len(model_rows) < rows:
            raise GenerationError(
                f"only {len(model_rows)} of {rows} rows matched the conditions {conditions}: "
                "relax the conditions"
            )
        table = self.transformer.inverse_transform(model_rows.reset_index(drop=True))
        for column, value in (conditions or {}).items():
            decoded = self.transformer.decode_value(column, value)
            table[column] = pd.Series([decoded] * len(table), dtype=table[column].dtype)
        return table[self.columns]

    def _model_conditions(self, conditions: dict) -> dict:
        encoded: dict = {}
        for column, value in conditions.items():
            if column not in self.columns:
                raise GenerationError(
                    f"condition column {column!r} is not a modelled column: use one of "
                    f"{', '.join(self.columns)}"
                )
            try:
                encoded.update(self.transformer.encode_value(column, value))
            except ValueError as error:
                raise GenerationError(f"invalid condition: {error}") from error
        return encoded


def fit_synthesizer(
    table: pd.DataFrame, schema, config: TrainingConfig, progress: Progress = None
) -> FittedSynthesizer:
    """Fit the configured model on the modelled columns of ``table``.

    Args:
        table: typed table (see ``schema.infer_schema``); it is not modified.
        schema: the table's schema.
        config: model and training options.
        progress: optional ``progress(stage, done, total, message)`` callable.

    Returns:
        The fitted synthesizer.

    Raises:
        TrainingError: if the table has no modelled column or the model fails to fit.
    """
    if not column_kinds(schema):
        raise TrainingError(
            "the table has no column to model: every column is an identifier, constant or empty"
        )
    if len(table) < 2:
        raise TrainingError(
            f"the table has {len(table)} rows: at least 2 are needed to fit a model"
        )
    if config.model == AUTO:
        from synthcare.selection import select_and_fit

        return select_and_fit(table, schema, config, progress=progress)
    return fit_model(table, schema, config, config.model, progress=progress)


def fit_model(
    table: pd.DataFrame,
    schema,
    config: TrainingConfig,
    model: str,
    parameters: dict | None = None,
    progress: Progress = None,
) -> FittedSynthesizer:
    """Fit one named model (not ``auto``) with explicit parameters, if given.

    ``parameters`` are a neural model's SDV parameters, or for the empirical copula
    ``{SIZED_FOR_ROWS: rows}``, the row count whose regularisation the fit uses.
    """
    started = time.perf_counter()
    if progress is not None:
        progress("train", 0, 1, f"fitting {model} on {len(table)} rows")
    transformer = TableTransformer(seed=config.seed).fit(table, schema)
    frame = transformer.transform(table)
    if model == EMPIRICAL_COPULA:
        engine = _CopulaEngine(config.seed, (parameters or {}).get(SIZED_FOR_ROWS))
    else:
        engine = _SdvEngine(model, config, parameters)
    try:
        used = engine.fit(frame, transformer.model_columns)
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
        raise TrainingError(f"fitting the {model} model failed: {error}") from error
    seconds = time.perf_counter() - started
    if progress is not None:
        progress("train", 1, 1, f"fitted {model} in {seconds:.1f} s")
    logger.info("fitted %s on %d rows in %.1f s", model, len(table), seconds)
    info = {
        "model": model,
        "parameters": used,
        "seed": config.seed,
        "rows": len(table),
        "fit_seconds": round(seconds, 3),
        "transforms": transformer.describe(),
    }
    return FittedSynthesizer(model, transformer, engine, info)
