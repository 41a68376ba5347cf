"""Months of the synthetic registers as integers, and their CBS date strings.

Month 0 is January 2010; the registers cover 108 months, to December 2018 (the last day covered by
the newest file version, 20181231). All conversions are vectorised over numpy arrays.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

FIRST_YEAR = 2010
N_MONTHS = 108
COVERAGE_END = "20181231"
OPEN_END_SENTINELS = ("20181231", "20501231", "20991231", "88888888", "99991231", "")


def month_index(year: int, month: int) -> int:
    return (year - FIRST_YEAR) * 12 + month - 1


def month_of_date(iso: str) -> int:
    """Month index of an ISO date string (YYYY-MM-DD)."""
    return month_index(int(iso[:4]), int(iso[5:7]))


def year_of(m: np.ndarray) -> np.ndarray:
    return FIRST_YEAR + np.asarray(m) // 12


def first_day(m: np.ndarray) -> np.ndarray:
    """YYYYMMDD of the first day of each month index."""
    return ymd(m, np.ones_like(np.asarray(m)))


def last_day(m: np.ndarray) -> np.ndarray:
    """YYYYMMDD of the last day of each month index."""
    m = np.asarray(m)
    return ymd(m, days_in_month(m))


def days_in_month(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m)
    year = year_of(m)
    month = m % 12 + 1
    start = (year.astype("datetime64[Y]") - 1970).astype("datetime64[M]") + (month - 1)
    return ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)


def ymd(m: np.ndarray, day: np.ndarray) -> np.ndarray:
    """YYYYMMDD strings for month indices and days of month."""
    m = np.asarray(m)
    return text(year_of(m) * 10000 + (m % 12 + 1) * 100 + np.asarray(day))


def text(values: np.ndarray) -> np.ndarray:
    """Integers (a 1-d array) as decimal strings, in an object array (as numpy's astype(str) writes them).

    Formatted by polars: numpy's fixed-width unicode strings were slow to make and slow to hand
    to polars (together about a quarter of the generator's time)."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu":  # booleans and floats print unlike numpy's astype(str)
        raise TypeError(f"text() takes integers, not {values.dtype}")
    return pl.Series(values).cast(pl.String).to_numpy()


def to_datetime64(m: np.ndarray, day: np.ndarray) -> np.ndarray:
    m = np.asarray(m)
    months = (year_of(m) - 1970) * 12 + m % 12
    return months.astype("datetime64[M]").astype("datetime64[D]") + (np.asarray(day) - 1)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream per named component."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])
