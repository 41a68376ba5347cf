"""Run independent replications (bootstrap draws, Monte Carlo designs) in worker processes.

Workers are started with the 'spawn' method and one BLAS thread each: every replication is a
chain of small dense linear-algebra calls, for which several processes with one thread each are
much faster than one process whose BLAS threads compete for the same cores. The payload (e.g. the
cohort) is sent once per worker, not once per task.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_PAYLOAD: dict = {}


def _initialise(payload: dict) -> None:
    _PAYLOAD.clear()
    _PAYLOAD.update(payload)


def payload() -> dict:
    """The payload given to `run_parallel`, inside a worker (or in-process with processes=1)."""
    return _PAYLOAD


def run_parallel(
    function: Callable, tasks: Iterable, processes: int, shared: dict | None = None
) -> list:
    """[function(task) for task in tasks], in `processes` spawned workers (in-process if 1).

    `function` must be importable (a module-level function); `shared` is available to it through
    `payload()`. Results come back in the order of `tasks`.
    """
    tasks = list(tasks)
    shared = shared or {}
    if processes <= 1 or len(tasks) <= 1:
        _initialise(shared)
        return [function(task) for task in tasks]
    saved = {k: os.environ.get(k) for k in BLAS_THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=processes,
            mp_context=context,
            initializer=_initialise,
            initargs=(shared,),
        ) as pool:
            chunk = max(1, len(tasks) // (8 * processes))
            return list(pool.map(function, tasks, chunksize=chunk))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
