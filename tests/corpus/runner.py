"""Snakemake runs for the corpus, forked from a server that has already imported Snakemake and
the workflow's heavy modules.

Starting Snakemake costs seconds of imports (Snakemake itself, and what the .smk files import at
parse time); the corpus starts it about sixty times. Each run here is a child of a fork server
(`multiprocessing`'s "forkserver" context) in which those imports are done once: the child runs
`snakemake.cli.main` with the given arguments, in the repository, with its output (and that of
its jobs) going to a file, and exits with Snakemake's status. Nothing else differs from the
command line.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PRELOAD = [
    "snakemake.cli",
    "snakemake.api",
    "polars",
    "duckdb",
    "yaml",
    "wwvw.ingest.tables",
    "wwvw.ingest.cbs",
    "wwvw.synthetic.layout",
    "wwvw.estimation.specifications",
    "wwvw.validity.settings",
    "wwvw.release.outputs",
]


def _snakemake(argv: list[str], cwd: str, out: str) -> None:
    """In the forked child: Snakemake's command line, output to `out`, exit with its status."""
    os.chdir(cwd)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    status = 1
    try:
        from snakemake.cli import main

        main(argv)
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


class ForkedSnakemake:
    """`run(argv, cwd)` -> CompletedProcess, as `subprocess.run(["snakemake", *argv])` would."""

    def __init__(self, preload: list[str] = PRELOAD):
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["corpus.runner", *preload])

    def run(self, argv: list[str], cwd: str | Path) -> subprocess.CompletedProcess:
        with tempfile.NamedTemporaryFile(suffix=".out", delete=False) as handle:
            out = handle.name
        try:
            child = self.context.Process(target=_snakemake, args=(argv, str(cwd), out))
            child.start()
            child.join()
            text = Path(out).read_text(errors="replace")
        finally:
            os.unlink(out)
        return subprocess.CompletedProcess(["snakemake", *argv], child.exitcode, text, "")
