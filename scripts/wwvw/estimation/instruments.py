"""Caseworker leniency instruments: leave-one-out and split-sample referral propensities.

For department d and client i of caseworker j, the raw leave-one-out propensity is the share of
j's OTHER clients referred to d:  z_i = (sum_{k in j} D_k - D_i) / (n_j - 1).
The residualised version follows Dahl, Kostol and Mogstad (2014, QJE) and Dobbie, Goldin and Yang
(2018, AER): first residualise the department dummy on the assignment-cell fixed effects,
D~_k = D_k - mean_{cell(k)} D, then take the leave-one-out mean of D~ over the caseworker's other
clients. Both equal the prediction for i from a regression of D (or D~) on caseworker dummies
estimated without i (the JIVE first stage with caseworker dummies only).
As in that literature, the cell means of the residualised leave-one-out instrument include client
i itself, so i's own referral enters its own instrument, with weight -(n_jc - 1) / (n_c (n_j - 1))
(n_jc: clients of j in i's cell c, n_c: clients in c), and correlates it with i's unobservables:
an own-observation bias that vanishes as cells grow but matters in small ones. The construction
is kept because it is the literature's; the bias is why UJIVE (Kolesar 2013, `jackknife.py`),
which leaves i out of both the caseworker and the cell regression, is the headline estimator.
The split-sample variant (Angrist and Krueger 1995) computes each client's propensity from the
caseworker's clients in the other random half; the residualised one nets the donors' referrals of
their cell means within the donor half (cell x half fixed effects). So a client's instrument
depends only on the other half's data, and no client's own referral enters its own instrument or
that of any other client in its half.

Clients alone in their assignment cell, or whose caseworker has fewer than the minimum caseload,
have leverage 1 in the controls (or caseworker) regression: `drop_small_groups` removes them,
repeatedly, since removing one can leave another cell or caseload too small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from wwvw.core.errors import DeliveryError

from .fixed_effects import demean_within_groups
from .matrices import TREATMENTS, department_dummies, group_codes

INSTRUMENT_KINDS = ("loo_raw", "loo_residualised", "split_sample", "split_sample_raw")


def propensity_column(department: str) -> str:
    """Name of the propensity column of a department."""
    return f"propensity_{department}"


def drop_small_caseloads(cohort: pl.DataFrame, min_clients: int) -> pl.DataFrame:
    """Drop the clients of caseworkers with fewer than `min_clients` clients in the frame."""
    caseload = pl.len().over("caseworker")
    return cohort.filter(caseload >= min_clients)


MIN_CELL_SIZE = 2  # a client alone in its cell has leverage 1 in the cell fixed effects


def usable_mask(
    caseworkers: np.ndarray,
    cells: np.ndarray,
    min_caseload: int,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The rows (of `rows`; all if None) left after repeatedly dropping the clients of caseworkers
    with fewer than `min_caseload` clients and of cells with fewer than MIN_CELL_SIZE, until no
    caseworker or cell is too small (dropping a client can shrink another group below its minimum).

    caseworkers, cells: integer codes (0..G-1) of every row."""
    rows = np.ones(caseworkers.size, dtype=bool) if rows is None else np.array(rows, dtype=bool)
    if caseworkers.size == 0:
        return rows
    while True:
        caseload = np.bincount(caseworkers[rows], minlength=int(caseworkers.max()) + 1)
        cell_size = np.bincount(cells[rows], minlength=int(cells.max()) + 1)
        keep = rows & (caseload[caseworkers] >= min_caseload) & (cell_size[cells] >= MIN_CELL_SIZE)
        if np.array_equal(keep, rows):
            return rows
        rows = keep


def drop_small_groups(cohort: pl.DataFrame, min_caseload: int) -> pl.DataFrame:
    """The cohort without the clients of caseworkers with fewer than `min_caseload` clients and of
    assignment cells with a single client, dropped repeatedly until none is left (`usable_mask`)."""
    if cohort.is_empty():
        return cohort
    keep = usable_mask(
        group_codes(cohort["caseworker"])[0], group_codes(cohort["cell"])[0], min_caseload
    )
    return cohort.filter(pl.Series(keep))


def leave_one_out_mean(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(sum over i's group of values - value_i) / (group size - 1); NaN for singleton groups."""
    sums = np.bincount(groups, weights=values)
    counts = np.bincount(groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums[groups] - values) / (counts[groups] - 1)


def other_half_mean(values: np.ndarray, groups: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Mean of values over the same group's observations in the other half; NaN if there are none."""
    out = np.full(values.size, np.nan)
    for side in (False, True):
        donors = half != side
        sums = np.bincount(groups[donors], weights=values[donors], minlength=groups.max() + 1)
        counts = np.bincount(groups[donors], minlength=groups.max() + 1).astype(float)
        receivers = ~donors
        with np.errstate(invalid="ignore", divide="ignore"):
            out[receivers] = sums[groups[receivers]] / counts[groups[receivers]]
    return out


def random_halves(n: int, seed: int) -> np.ndarray:
    """Boolean membership of a random half (floor(n/2) True), deterministic in the seed."""
    half = np.zeros(n, dtype=bool)
    half[np.random.default_rng(seed).permutation(n)[: n // 2]] = True
    return half


def referral_targets(
    cohort: pl.DataFrame,
    departments: Sequence[str],
    residualised: bool,
    half: np.ndarray | None = None,
) -> np.ndarray:
    """Department dummies (n x len(departments)), residualised on cell fixed effects if requested.

    With `half` (the split-sample halves), the cell means are taken within each half (cell x half
    fixed effects), so that a client's target depends on the referrals of its own half only."""
    dummies = department_dummies(cohort, departments)
    if not residualised:
        return dummies
    cells, _ = group_codes(cohort["cell"])
    if half is not None:
        cells, _ = group_codes(cells * 2 + np.asarray(half, dtype=np.int64))
    return demean_within_groups(dummies, cells)


def leave_one_out_propensities(
    cohort: pl.DataFrame, departments: Sequence[str] = TREATMENTS, residualised: bool = True
) -> np.ndarray:
    """n x len(departments) leave-one-out caseworker propensities (raw or cell-residualised)."""
    targets = referral_targets(cohort, departments, residualised)
    caseworkers, _ = group_codes(cohort["caseworker"])
    return np.column_stack([leave_one_out_mean(t, caseworkers) for t in targets.T])


def split_sample_propensities(
    cohort: pl.DataFrame,
    departments: Sequence[str] = TREATMENTS,
    seed: int = 0,
    residualised: bool = True,
) -> np.ndarray:
    """n x len(departments) propensities computed from the caseworker's clients in the other half
    (residualised: their referrals net of their cell means within that half)."""
    half = random_halves(cohort.height, seed)
    targets = referral_targets(cohort, departments, residualised, half)
    caseworkers, _ = group_codes(cohort["caseworker"])
    return np.column_stack([other_half_mean(t, caseworkers, half) for t in targets.T])


def add_propensities(
    cohort: pl.DataFrame,
    departments: Sequence[str] = TREATMENTS,
    kind: str = "loo_residualised",
    seed: int = 0,
) -> pl.DataFrame:
    """The cohort with a `propensity_<department>` column per department, of the given kind.

    kind: loo_raw, loo_residualised, split_sample (residualised) or split_sample_raw. Values are
    NaN where undefined (a caseworker's only client; no clients in the other half).
    """
    if kind not in INSTRUMENT_KINDS:
        raise ValueError(f"unknown instrument kind {kind!r}; expected one of {INSTRUMENT_KINDS}")
    residualised = not kind.endswith("raw")
    if kind.startswith("loo"):
        values = leave_one_out_propensities(cohort, departments, residualised)
    else:
        values = split_sample_propensities(cohort, departments, seed, residualised)
    return cohort.with_columns(
        pl.Series(propensity_column(d), values[:, k]) for k, d in enumerate(departments)
    )


class SampleTooSmall(DeliveryError, ValueError):
    """The cohort cannot carry the leniency design: too few clients, caseworkers or cells remain
    once the rules of `usable_sample` are applied (a delivery problem, ended with one message)."""


def require_estimable(cohort: pl.DataFrame, frame: pl.DataFrame, min_caseload: int) -> None:
    """Stop with one message naming the cohort size and the minimum when the usable sample cannot
    be estimated: a leniency estimate compares caseworkers within an assignment cell, so it needs
    at least one cell with two caseworkers of `min_caseload` or more clients each."""
    compared = (
        frame.group_by("cell")
        .agg(pl.col("caseworker").n_unique().alias("k"))
        .filter(pl.col("k") >= 2)
        if frame.height
        else frame
    )
    if frame.height and compared.height:
        return
    raise SampleTooSmall(
        f"the analysis cohort has {cohort.height} clients, of whom {frame.height} can be used "
        f"(caseworkers with at least {min_caseload} clients, cells of at least {MIN_CELL_SIZE}), "
        f"and no assignment cell has two such caseworkers: the leniency estimates need at "
        f"least one cell with two caseworkers of {min_caseload} or more clients each (and a "
        "cohort of some hundreds of clients for intervals of any use)"
    )


def usable_sample(
    cohort: pl.DataFrame,
    departments: Sequence[str],
    kind: str,
    seed: int,
    min_caseload: int,
) -> pl.DataFrame:
    """The clients an estimate can use, with their propensities (`add_propensities`): without
    small caseloads and one-client cells (`drop_small_groups`), and without clients whose
    propensity is undefined. That happens when a split-sample caseworker's clients all fall in
    one half; dropping them can leave a one-client cell or caseload, so the filter runs again
    (the other clients' propensities do not use the dropped ones: they had no donors)."""
    kept = drop_small_groups(cohort, min_caseload)
    if kept.height == 0:  # nothing to compute propensities on: say why, as one message
        require_estimable(cohort, kept, min_caseload)
    frame = add_propensities(kept, departments, kind, seed)
    finite = pl.all_horizontal(pl.col(propensity_column(d)).is_finite() for d in departments)
    return drop_small_groups(frame.filter(finite), min_caseload)
