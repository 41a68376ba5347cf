"""The error for a bad delivery, and how a rule script reports it.

Every problem with the input files that the person running the workflow can fix (a missing or
unreadable file, a column that is not there, a value the contract does not allow, an identifier
that must not be in the data) is a `DeliveryError`. Its message names the file, the column, the
problem and at most a few data-row numbers, never a value from a row: messages end up in logs.

Rule scripts wrap their work in `exit_on_delivery_error(log)`: the message is logged (to the job
log and to stderr) and the process ends with status 1, so the user reads one message and no Python
traceback. Anything else is a bug in the pipeline and keeps its traceback.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

MAX_EXAMPLE_ROWS = 5
_LONG_NUMBER = re.compile(r"\d{6,}")


class DeliveryError(Exception):
    """A delivery the pipeline cannot use as it is; the message says which file and why."""


@contextmanager
def exit_on_delivery_error(log: logging.Logger) -> Iterator[None]:
    """Log a DeliveryError raised inside the block and exit with status 1 (no traceback)."""
    try:
        yield
    except DeliveryError as error:
        log.error("%s", error)
        sys.exit(1)


def example_rows(rows: Sequence[int], total: int | None = None) -> str:
    """'data rows 3, 17 and 20' for the first MAX_EXAMPLE_ROWS 1-based data-row numbers."""
    shown = [str(r) for r in list(rows)[:MAX_EXAMPLE_ROWS]]
    if not shown:
        return "no data rows"
    total = len(rows) if total is None else total
    listing = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    more = f" (first {len(shown)} of {total})" if total > len(shown) else ""
    return f"data row{'s' if len(shown) > 1 else ''} {listing}{more}"


def mask_numbers(text: str) -> str:
    """Text from a file's first line (a header, or data when the header is missing) with long
    digit runs masked, so that a message cannot carry a RIN."""
    return _LONG_NUMBER.sub("<number>", text)
