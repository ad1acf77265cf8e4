"""Progress reporting for long work: a bar on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import logging
import sys
import time
from typing import Protocol, TextIO

logger = logging.getLogger(__name__)


class Progress(Protocol):
    """Callable that receives progress: a stage name, units done, units in all, a message."""

    def __call__(self, stage: str, done: int, total: int, message: str = "") -> None:
        """Record that ``done`` of ``total`` units of ``stage`` are finished."""


class TerminalProgress:
    """Show a tqdm bar per stage on a terminal, or one log line per step elsewhere.

    Args:
        stream: where to write. Defaults to standard error.
        min_interval: seconds between two log lines of the same stage when not on a terminal.
    """

    def __init__(self, stream: TextIO | None = None, min_interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = None
        self._stage = None
        self._last_line = 0.0

    def __call__(self, stage: str, done: int, total: int, message: str = "") -> None:
        """Record that ``done`` of ``total`` units of ``stage`` are finished."""
        if self.interactive:
            self._update_bar(stage, done, total, message)
            return

        now = time.monotonic()
        finished = total > 0 and done >= total
        if stage != self._stage or finished or now - self._last_line >= self.min_interval:
            suffix = f" {message}" if message else ""
            self.stream.write(f"[{stage}] {done}/{total}{suffix}\n")
            self.stream.flush()
            self._last_line = now
        self._stage = stage

    def _update_bar(self, stage: str, done: int, total: int, message: str) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._bar = tqdm(total=total, desc=stage, file=self.stream, leave=True)
            self._stage = stage
        self._bar.total = total
        self._bar.n = done
        if message:
            self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Close the open bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def quiet_library_logging() -> None:
    """Lower the log level of SDV and its helpers, which log every fit at INFO."""
    for name in (
        "sdv",
        "rdt",
        "copulas",
        "ctgan",
        "SingleTableSynthesizer",
        "MultiTableSynthesizer",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
