"""Size limits that every input table is checked against."""

from dataclasses import dataclass, fields

from synthcare.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Bounds on an input table.

    Attributes:
        max_file_bytes: Largest accepted file, in bytes. Checked before the file is read.
            Defaults to 100 MiB.
        max_rows: Most data rows (header excluded). Checked while parsing. Defaults to
            1,000,000.
        max_columns: Most columns. Checked as soon as the header is known. Defaults to 1,000.
        max_categories: Most distinct values in one categorical column. Checked during type
            inference, because every category becomes a one-hot input of the synthesizer.
            Defaults to 1,000.
        min_rows: Fewest data rows. Defaults to 10, because the evaluation holds out part of
            the rows and a two-sample KS test on a handful of values says nothing.
    """

    max_file_bytes: int = 100 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 1_000
    max_categories: int = 1_000
    min_rows: int = 10

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"Invalid limit {field.name}={value!r}: it must be a whole number of at "
                    "least 1."
                )


DEFAULT_LIMITS = Limits()
