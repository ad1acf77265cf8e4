"""Log set-up shared by ``train`` and ``serve``."""

import logging
import sys

# Loggers whose INFO lines are progress a user wants to read. SDV and RDT log a structured line
# for every synthesizer event at INFO, so everything else is kept to warnings and errors.
INFO_LOGGERS = ("model_code", "synthcare")


def configure_logging() -> None:
    """Send plain log lines to stdout, where SageMaker collects them into CloudWatch."""
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
