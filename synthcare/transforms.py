"""Reversible column transforms applied to a table before any synthesizer is fitted on it.

Small clinical tables carry quirks that stock synthesizers model badly: sentinel codes such as
``-1`` or ``999`` inside a lab column, columns that are mostly exact zeros, long right tails, and
integer scores with a handful of levels. :class:`TableTransformer` turns a typed table into a
model table without those quirks and turns sampled model rows back into the typed table:

* a numerical column becomes a continuous value column plus, when needed, a categorical state
  column whose levels are ``value``, ``missing`` and one level per point mass (a sentinel code or
  an exact zero). Rows in a point-mass or missing state carry a value drawn from the continuous
  part, so the continuous marginal is not distorted, and the value is discarded on the way back;
* long-tailed positive continuous parts (skewness above 1.5) are modelled on the log scale;
* integer columns with at most 20 distinct values, and any numerical column with at most 10
  (the most that fidelity scores with the TV distance rather than KS), become ordered
  categorical columns, so every sampled value is one the real column has;
* datetimes become seconds since the epoch; booleans and categoricals become text labels, with
  missing values as their own label.

The inverse clips every numerical value to the real minimum and maximum of its continuous part,
rounds to the real number of decimals, and keeps integers integer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

logger = logging.getLogger(__name__)

MISSING_LABEL = "<missing>"
VALUE_STATE = "value"
MAX_DISCRETE_LEVELS = 20
# A numerical column with at most this many distinct values is sampled from its real values, the
# same threshold at which evaluation scores it with the TV distance instead of KS.
FEW_DISTINCT_VALUES = 10
ZERO_INFLATION_SHARE = 0.2
LOG_SKEWNESS = 1.5
MAX_DECIMALS = 6

MODELLED_KINDS = ("numerical", "categorical", "boolean", "datetime")


@dataclass
class ModelColumn:
    """A column of the model table.

    Attributes:
        name: column name in the model table.
        role: ``continuous`` (float), ``nominal`` (text labels, no order) or ``ordinal``
            (text labels whose order is ``categories``).
        categories: labels in their natural order (ordinal) or by falling frequency (nominal).
    """

    name: str
    role: str
    categories: list[str] = field(default_factory=list)


@dataclass
class ColumnPlan:
    """Mapping of one typed column to one or two model columns and back."""

    name: str
    kind: str
    encoding: str  # "continuous" or "labels"
    value_column: str
    state_column: str | None = None
    point_masses: list[float] = field(default_factory=list)
    has_missing: bool = False
    log: bool = False
    integer: bool = False
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    datetime_unit: str | None = None
    labels: dict[str, object] = field(default_factory=dict)
    label_order: list[str] = field(default_factory=list)
    ordered: bool = False
    fill_values: np.ndarray | None = None

    def state_label(self, point: float) -> str:
        """Return the state label of a point mass."""
        return f"={_format_number(point)}"


def _format_number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def column_kinds(schema) -> dict[str, str]:
    """Return the modelled columns of a schema as ``{name: kind}`` in table order."""
    kinds = {}
    for column in schema.columns:
        kind = str(getattr(column.kind, "value", column.kind))
        if kind in MODELLED_KINDS:
            kinds[column.name] = kind
    return kinds


def column_dtypes(schema) -> dict[str, str]:
    """Return ``{name: dtype}`` for every column of a schema."""
    return {column.name: str(column.dtype) for column in schema.columns}


def find_sentinels(values: np.ndarray) -> list[float]:
    """Find codes that stand for "not measured" rather than a measurement.

    Two patterns count as sentinels. The first is at most two distinct whole negative values,
    such as ``-1``, in a column whose other values (at least half the column) are non-negative.
    The second is an all-nines whole number of at least 99 in magnitude (99, 999, 9999, also
    negative) lying more than twice as far from zero as every other value.

    Args:
        values: non-missing values of a numerical column.

    Returns:
        The sentinel values, sorted.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return []

    sentinels: set[float] = set()
    negatives = np.unique(values[values < 0])
    non_negative = values[values >= 0]
    if (
        0 < negatives.size <= 2
        and non_negative.size >= 0.5 * values.size
        and np.all(negatives == np.round(negatives))
        and np.unique(non_negative).size > 2
    ):
        sentinels.update(float(v) for v in negatives)

    for value in np.unique(values):
        magnitude = abs(value)
        if magnitude < 99 or value != round(value) or set(str(int(magnitude))) != {"9"}:
            continue
        others = values[values != value]
        if others.size and magnitude > 2 * np.max(np.abs(others)):
            sentinels.add(float(value))
    return sorted(sentinels)


def count_decimals(values: np.ndarray) -> int | None:
    """Return the fewest decimals (up to 6) that reproduce every value, or None if none do."""
    for decimals in range(MAX_DECIMALS + 1):
        if np.allclose(values, np.round(values, decimals), rtol=0, atol=1e-9):
            return decimals
    return None


def _unique_name(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name = f"_{name}"
    taken.add(name)
    return name


class TableTransformer:
    """Fit on a typed table, then map it to a model table and sampled model rows back.

    Args:
        seed: seed for the values drawn into rows that are in a point-mass or missing state.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.plans: list[ColumnPlan] = []
        self.model_columns: list[ModelColumn] = []
        self.columns: list[str] = []

    # ------------------------------------------------------------------ fitting

    def fit(self, table: pd.DataFrame, schema) -> TableTransformer:
        """Learn one plan per modelled column of ``schema`` from ``table``.

        Args:
            table: typed table as returned by schema inference.
            schema: the table's schema; only its modelled columns are used.

        Returns:
            self
        """
        kinds = column_kinds(schema)
        dtypes = column_dtypes(schema)
        taken = set(kinds)
        self.plans = []
        self.model_columns = []
        self.columns = list(kinds)
        for name, kind in kinds.items():
            series = table[name]
            if kind in ("numerical", "datetime"):
                plan = self._plan_numeric(name, kind, series, dtypes.get(name, ""), taken)
            else:
                plan = self._plan_labels(name, kind, series, ordered=False)
            self.plans.append(plan)
            self.model_columns.extend(self._model_columns(plan))
        return self

    def _plan_numeric(
        self, name: str, kind: str, series: pd.Series, dtype: str, taken: set[str]
    ) -> ColumnPlan:
        values, unit = _to_numbers(series, kind)
        present = values[~np.isnan(values)]
        has_missing = bool(np.isnan(values).any())
        integer = kind == "numerical" and (
            dtype == "int64" or (present.size > 0 and np.all(present == np.round(present)))
        )

        distinct = np.unique(present)
        if kind == "numerical" and (
            distinct.size <= FEW_DISTINCT_VALUES
            or (integer and distinct.size <= MAX_DISCRETE_LEVELS)
        ):
            return self._plan_labels(name, kind, series, ordered=True)

        plan = ColumnPlan(
            name=name,
            kind=kind,
            encoding="continuous",
            value_column=name,
            has_missing=has_missing,
            integer=integer,
            datetime_unit=unit,
        )
        points = find_sentinels(present) if kind == "numerical" else []
        continuous = present[~np.isin(present, points)]
        if kind == "numerical" and present.size:
            zero_share = np.mean(present == 0)
            if (
                zero_share >= ZERO_INFLATION_SHARE
                and np.unique(continuous[continuous != 0]).size > 1
            ):
                points = sorted({*points, 0.0})
                continuous = continuous[continuous != 0]
        if np.unique(continuous).size < 2:
            # NOTE: a continuous part with fewer than two distinct values cannot be modelled as a
            # distribution, so the column falls back to one label per distinct value.
            return self._plan_labels(name, kind, series, ordered=True)

        plan.point_masses = [float(p) for p in points]
        plan.minimum = float(np.min(continuous))
        plan.maximum = float(np.max(continuous))
        plan.decimals = 0 if integer else count_decimals(continuous)
        if kind == "numerical" and plan.minimum > 0 and stats.skew(continuous) > LOG_SKEWNESS:
            plan.log = True
        plan.fill_values = np.sort(self._forward_values(plan, continuous))
        if plan.point_masses or has_missing:
            plan.state_column = _unique_name(f"{name}__state", taken)
            plan.label_order = [VALUE_STATE] + [plan.state_label(p) for p in plan.point_masses]
            if has_missing:
                plan.label_order.append(MISSING_LABEL)
        return plan

    def _plan_labels(self, name: str, kind: str, series: pd.Series, ordered: bool) -> ColumnPlan:
        present = series.dropna()
        has_missing = bool(series.isna().any())
        if kind == "datetime":
            present = pd.to_datetime(present)
        labels: dict[str, object] = {}
        for value in present.unique():
            labels.setdefault(_label(value), value)

        if ordered:
            order = sorted(labels, key=lambda label: _sort_key(labels[label]))
        else:
            counts = present.map(_label).value_counts(sort=False)
            order = sorted(labels, key=lambda label: (-int(counts.get(label, 0)), label))
        if has_missing:
            order.append(MISSING_LABEL)
        return ColumnPlan(
            name=name,
            kind=kind,
            encoding="labels",
            value_column=name,
            has_missing=has_missing,
            integer=kind == "numerical"
            and all(float(v) == round(float(v)) for v in labels.values()),
            labels=labels,
            label_order=order,
            ordered=ordered,
        )

    def _model_columns(self, plan: ColumnPlan) -> list[ModelColumn]:
        if plan.encoding == "labels":
            role = "ordinal" if plan.ordered else "nominal"
            return [ModelColumn(plan.value_column, role, list(plan.label_order))]
        columns = [ModelColumn(plan.value_column, "continuous")]
        if plan.state_column:
            columns.append(ModelColumn(plan.state_column, "nominal", list(plan.label_order)))
        return columns

    @staticmethod
    def _forward_values(plan: ColumnPlan, values: np.ndarray) -> np.ndarray:
        return np.log(values) if plan.log else values

    # ------------------------------------------------------------------ transforming

    def transform(self, table: pd.DataFrame) -> pd.DataFrame:
        """Map a typed table to the model table (no missing values, floats and text labels)."""
        rng = np.random.default_rng(self.seed)
        output: dict[str, object] = {}
        for plan in self.plans:
            series = table[plan.name]
            if plan.encoding == "labels":
                output[plan.value_column] = _labels_of(series, plan)
                continue

            values, _ = _to_numbers(series, plan.kind)
            missing = np.isnan(values)
            masses = np.isin(values, plan.point_masses) & ~missing
            in_value = ~missing & ~masses
            model_values = np.empty(values.size, dtype=float)
            model_values[in_value] = self._forward_values(
                plan, np.clip(values[in_value], plan.minimum, plan.maximum)
            )
            filled = ~in_value
            model_values[filled] = rng.choice(plan.fill_values, size=int(filled.sum()))
            output[plan.value_column] = model_values
            if plan.state_column:
                states = np.full(values.size, VALUE_STATE, dtype=object)
                for point in plan.point_masses:
                    states[values == point] = plan.state_label(point)
                states[missing] = MISSING_LABEL
                output[plan.state_column] = states
        return pd.DataFrame(output, index=table.index)

    def inverse_transform(self, model_table: pd.DataFrame) -> pd.DataFrame:
        """Map sampled model rows back to typed columns in the original order."""
        output: dict[str, pd.Series] = {}
        for plan in self.plans:
            if plan.encoding == "labels":
                output[plan.name] = _values_of(model_table[plan.value_column], plan)
                continue

            raw = pd.to_numeric(model_table[plan.value_column], errors="coerce").to_numpy(float)
            raw = np.where(np.isnan(raw), np.nanmedian(plan.fill_values), raw)
            values = np.exp(raw) if plan.log else raw
            values = np.clip(values, plan.minimum, plan.maximum)
            if plan.decimals is not None:
                values = np.round(values, plan.decimals)
            if plan.state_column:
                states = model_table[plan.state_column].astype(str).to_numpy()
                for point in plan.point_masses:
                    values = np.where(states == plan.state_label(point), point, values)
                values = np.where(states == MISSING_LABEL, np.nan, values)
            output[plan.name] = _typed(values, plan)
        return pd.DataFrame(output, index=model_table.index)

    def encode_value(self, column: str, value: object) -> dict[str, object]:
        """Map one typed value of ``column`` to its model columns, for conditional sampling.

        Raises:
            KeyError: if ``column`` is not modelled.
            ValueError: if the value is not one the column can take.
        """
        plan = self.plan(column)
        if plan.encoding == "labels":
            label = MISSING_LABEL if _is_missing(value) else _label(_coerce(value, plan))
            if label not in plan.label_order:
                known = ", ".join(plan.label_order[:10])
                raise ValueError(f"{value!r} is not a value of column {column!r} (known: {known})")
            return {plan.value_column: label}

        if _is_missing(value):
            if not plan.has_missing:
                raise ValueError(f"column {column!r} has no missing values to condition on")
            return {
                plan.value_column: float(np.median(plan.fill_values)),
                plan.state_column: MISSING_LABEL,
            }
        number = _to_numbers(pd.Series([_coerce(value, plan)]), plan.kind)[0][0]
        if number in plan.point_masses:
            return {
                plan.value_column: float(np.median(plan.fill_values)),
                plan.state_column: plan.state_label(number),
            }
        if not plan.minimum <= number <= plan.maximum:
            raise ValueError(
                f"{value!r} is outside the range of column {column!r} "
                f"({_format_number(plan.minimum)} to {_format_number(plan.maximum)})"
            )
        encoded: dict[str, object] = {plan.value_column: float(self._forward_values(plan, number))}
        if plan.state_column:
            encoded[plan.state_column] = VALUE_STATE
        return encoded

    def decode_value(self, column: str, value: object) -> object:
        """Return ``value`` in the typed form that sampled rows of ``column`` have."""
        plan = self.plan(column)
        if _is_missing(value):
            return None
        coerced = _coerce(value, plan)
        if plan.encoding == "labels":
            return plan.labels.get(_label(coerced), coerced)
        return coerced

    def plan(self, column: str) -> ColumnPlan:
        """Return the plan of a modelled column."""
        for plan in self.plans:
            if plan.name == column:
                return plan
        raise KeyError(column)

    def describe(self) -> dict[str, dict]:
        """Return a JSON-serialisable summary of what each column's plan does."""
        summary = {}
        for plan in self.plans:
            entry: dict[str, object] = {"kind": plan.kind, "encoding": plan.encoding}
            if plan.encoding == "labels":
                entry["levels"] = len(plan.label_order)
                entry["ordered"] = plan.ordered
            else:
                entry["point_masses"] = plan.point_masses
                entry["log"] = plan.log
                entry["integer"] = bool(plan.integer)
                entry["range"] = [plan.minimum, plan.maximum]
            summary[plan.name] = entry
        return summary


def _to_numbers(series: pd.Series, kind: str) -> tuple[np.ndarray, str | None]:
    """Return float values (NaN for missing) and, for datetimes, the rounding unit."""
    if kind == "datetime":
        stamps = pd.to_datetime(series)
        nanos = stamps.astype("int64").to_numpy().astype(float)
        nanos[stamps.isna().to_numpy()] = np.nan
        present = nanos[~np.isnan(nanos)]
        unit = "ns"
        for candidate, size in (("D", 86400e9), ("s", 1e9)):
            if present.size and np.all(np.mod(present, size) == 0):
                unit = candidate
                break
        return nanos / 1e9, unit
    numbers = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    return numbers, None


def _typed(values: np.ndarray, plan: ColumnPlan) -> pd.Series:
    if plan.kind == "datetime":
        nanos = pd.Series(values * 1e9)
        stamps = pd.to_datetime(nanos.round(), unit="ns")
        if plan.datetime_unit in ("D", "s"):
            stamps = stamps.dt.round(plan.datetime_unit)
        return stamps
    if plan.integer:
        return pd.Series(np.round(values)).astype("Int64")
    return pd.Series(values, dtype="float64")


def _label(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _format_number(float(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _sort_key(value: object) -> tuple:
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _coerce(value: object, plan: ColumnPlan) -> object:
    """Convert a condition value (often text from JSON) to the column's typed form."""
    if plan.kind == "boolean":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(f"{value!r} is not a boolean value of column {plan.name!r}")
        return bool(value)
    if plan.kind == "datetime":
        return pd.Timestamp(value)
    if plan.kind == "numerical":
        try:
            number = float(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{value!r} is not a number in column {plan.name!r}") from error
        return int(number) if plan.integer and number == round(number) else number
    if plan.encoding == "labels" and _label(value) not in plan.labels:
        # Categorical codes such as 0/1/2 arrive as numbers or as text: match either form.
        for label, original in plan.labels.items():
            if str(value).strip() == label or str(original) == str(value):
                return original
    return value


def _labels_of(series: pd.Series, plan: ColumnPlan) -> np.ndarray:
    if plan.kind == "datetime":
        series = pd.to_datetime(series)
    labels = np.full(len(series), MISSING_LABEL, dtype=object)
    present = series.notna().to_numpy()
    labels[present] = [_label(value) for value in series[present]]
    return labels


def _values_of(labels: pd.Series, plan: ColumnPlan) -> pd.Series:
    text = labels.astype(str)
    mapped = [plan.labels.get(label) if label != MISSING_LABEL else None for label in text]
    if plan.kind == "numerical":
        numbers = pd.Series([np.nan if v is None else float(v) for v in mapped], dtype="float64")
        return numbers.round().astype("Int64") if plan.integer else numbers
    if plan.kind == "boolean":
        return pd.Series([pd.NA if v is None else bool(v) for v in mapped], dtype="boolean")
    if plan.kind == "datetime":
        return pd.to_datetime(pd.Series([pd.NaT if v is None else v for v in mapped]))
    sample = next((v for v in mapped if v is not None), None)
    if isinstance(sample, (int, np.integer)) and not isinstance(sample, (bool, np.bool_)):
        return pd.Series([pd.NA if v is None else int(v) for v in mapped], dtype="Int64")
    if isinstance(sample, (float, np.floating)):
        return pd.Series([np.nan if v is None else float(v) for v in mapped], dtype="float64")
    if isinstance(sample, str) or sample is None:
        return pd.Series([pd.NA if v is None else v for v in mapped], dtype="string")
    return pd.Series([None if v is None else v for v in mapped], dtype="object")
