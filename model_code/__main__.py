"""Run ``python -m model_code train`` or ``python -m model_code serve``."""

import importlib
import sys

COMMANDS = ("train", "serve")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the ``train`` or ``serve`` entry point named by the first argument."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m model_code {train,serve} [--help]", file=sys.stderr)
        return 2
    # Import only the chosen entry point: serve loads gunicorn, Flask and the model code.
    module = importlib.import_module(f"model_code.{argv[0]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
