"""Start the container's programs (`train`, `serve`) as processes forked from a warm server.

SageMaker starts a fresh container per job. A fresh Python process per job would spend most of
its time importing pandas, SDV and torch (about 3 CPU seconds each time), which for the forty
jobs of the e2e suite costs more than the jobs themselves. The jobs therefore run in processes
forked from a multiprocessing fork server that imported those modules once. Each process gets
only the job's environment variables and working folder, sends stdout and stderr to the job's
log file, and runs the program's own `main`, so exit codes, the failure file and signal
handling are those of the program.

This module is imported by the fork server, so it imports nothing heavy itself.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

# The fork server imports these once. multiprocessing skips any that are missing.
PRELOAD = (
    "harness.container",
    "model_code.train",
    "model_code.serve",
    "model_code.app",
    "synthcare.steps",
    "synthcare.synthesizers",
    "synthcare.report",
    "gunicorn.app.base",
    "flask",
)

_context: ForkServerContext | None = None


def forkserver_context(environ: dict[str, str]) -> ForkServerContext:
    """Return the fork server context, starting the server with `environ` the first time.

    The server keeps the environment it started with for imports that read it, such as torch's
    thread count and matplotlib's cache folder. Every job process replaces it with its own.
    """
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        saved = dict(os.environ)
        os.environ.update(environ)
        try:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        _context = context
    return _context


def start_program(
    program: str, environ: dict[str, str], cwd: Path, log_path: Path
) -> multiprocessing.Process:
    """Start `model_code.<program>.main()` in a forked process and return the process.

    Args:
        program: `train` or `serve`.
        environ: The complete environment of the program.
        cwd: Working folder.
        log_path: File that receives stdout and stderr.
    """
    context = forkserver_context(environ)
    process = context.Process(
        target=run_program,
        args=(program, environ, str(cwd), str(log_path)),
        name=f"container-{program}",
    )
    process.start()
    return process


def run_program(program: str, environ: dict[str, str], cwd: str, log_path: str) -> Any:
    """Run one program in the current (forked) process and exit with its exit code."""
    # A session of its own, so that the harness can signal the program and its children.
    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)

    module = importlib.import_module(f"model_code.{program}")
    try:
        code = module.main([])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    sys.exit(code)
