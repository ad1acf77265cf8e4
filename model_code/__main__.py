"""Run ``python -m model_code train`` or ``python -m model_code serve``."""

import sys

from model_code import serve, train

COMMANDS = {"train": train.main, "serve": serve.main}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the ``train`` or ``serve`` entry point named by the first argument."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m model_code {train,serve} [--help]", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
