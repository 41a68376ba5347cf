"""Logging for rule scripts: one log file per job, never a person-level value in it."""

from __future__ import annotations

import logging
import sys


def setup(log_path: str | None = None) -> logging.Logger:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger("wwvw")


class Progress:
    """Progress of a long step in the job log: rows done, the share of the total when known, and
    rows per second, at most every `every` seconds (a job of a few seconds logs nothing)."""

    def __init__(self, log: logging.Logger, what: str, total: int | None = None, every: float = 10):
        import time

        self.clock = time.perf_counter
        self.log, self.what, self.total, self.every = log, what, total, every
        self.started = self.last = self.clock()
        self.done = 0

    def update(self, rows: int) -> None:
        self.done += rows
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            share = (
                f" of {self.total:,} ({100 * self.done / self.total:.0f}%)" if self.total else ""
            )
            rate = self.done / max(now - self.started, 1e-9)
            self.log.info(
                "%s: %s rows%s, %s rows/s", self.what, f"{self.done:,}", share, f"{rate:,.0f}"
            )
