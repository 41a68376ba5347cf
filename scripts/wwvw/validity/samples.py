"""The estimation sample shared by the design checks: arrays, propensities, controls, subgroups.

A `Sample` is the cohort after the headline specification's minimum caseload (and without
one-client assignment cells, as in `wwvw.estimation.specifications.prepare_sample`), with both
treatments (Matching and Activering, each against Prematching), their caseworker propensities
(`wwvw.estimation.instruments`: leave-one-out or split-sample, raw or net of the assignment cell),
the cell and caseworker codes and the covariate dummies of `wwvw.estimation.matrices`. Every check
partials out the assignment-cell fixed effects, and the covariates where the specification does,
with `wwvw.estimation.fixed_effects` (Frisch-Waugh-Lovell), and clusters by caseworker.

Subgroups are the levels of a Table 1 characteristic (`variable=level`, booleans as true/false,
as in `wwvw.estimation.specifications.select_subgroup`); levels with fewer clients than a minimum
are left out and reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wwvw.cohort.registry import CATEGORICAL, NAMES
from wwvw.estimation.fixed_effects import Controls, make_controls
from wwvw.estimation.instruments import (
    leave_one_out_mean,
    other_half_mean,
    propensity_column,
    random_halves,
    referral_targets,
    require_estimable,
    usable_sample,
)
from wwvw.estimation.linear import ols
from wwvw.estimation.matrices import (
    DEPARTMENTS,
    MIN_LEVEL_COUNT,
    TREATMENTS,
    covariate_matrix,
    department_dummies,
    group_codes,
    outcome_vector,
)
from wwvw.estimation.variance import MomentFit

CHARACTERISTICS = NAMES  # in Table 1 order
# reading order of the levels in tables (levels not listed follow, sorted)
LEVEL_ORDER = {c.name: c.check_levels for c in CATEGORICAL}
BOOLEAN_LEVELS = ("false", "true")
CLUSTER = "cluster:caseworker"


@dataclass(frozen=True)
class Sample:
    """Arrays of one estimation sample (rows in the order of `frame`)."""

    frame: pl.DataFrame  # cohort rows kept, with propensity_<treatment> columns
    outcome: np.ndarray  # (n,)
    treatments: np.ndarray  # (n, 2): matching, activering
    departments: np.ndarray  # (n, 3): matching, prematching, activering
    propensities: np.ndarray  # (n, 2): the instruments of matching and activering
    cells: np.ndarray  # codes 0..C-1
    caseworkers: np.ndarray  # codes 0..J-1
    covariates: np.ndarray  # (n, m) covariate dummies (reference levels dropped)
    covariate_names: tuple[str, ...]
    instruments: str  # propensity kind
    use_covariates: bool  # whether the checks control for the covariates
    split_seed: int = 0  # seed of the random halves of a split-sample instrument

    @property
    def n(self) -> int:
        return self.frame.height

    @property
    def n_clusters(self) -> int:
        return int(np.unique(self.caseworkers).size)


def build_sample(
    cohort: pl.DataFrame,
    instruments: str = "loo_residualised",
    min_caseload: int = 2,
    covariates: bool = True,
    split_seed: int = 0,
) -> Sample:
    """The sample of the headline specification: minimum caseload and cell size, propensities,
    arrays."""
    frame = usable_sample(cohort, TREATMENTS, instruments, split_seed, min_caseload)
    require_estimable(cohort, frame, min_caseload)
    columns = [propensity_column(t) for t in TREATMENTS]
    matrix, names = covariate_matrix(frame)
    return Sample(
        frame=frame,
        outcome=outcome_vector(frame),
        treatments=department_dummies(frame, TREATMENTS),
        departments=department_dummies(frame, DEPARTMENTS),
        propensities=frame.select(columns).to_numpy(),
        cells=group_codes(frame["cell"])[0],
        caseworkers=group_codes(frame["caseworker"])[0],
        covariates=matrix,
        covariate_names=tuple(names),
        instruments=instruments,
        use_covariates=covariates,
        split_seed=split_seed,
    )


def propensity_targets(
    sample: Sample, mask: np.ndarray | None = None, split_seed: int | None = None
) -> np.ndarray:
    """(n, 2) what the propensities average: the referrals, net of the cells unless the sample's
    instruments are raw. With `mask`, computed within the mask (NaN outside it); for split-sample
    instruments without a mask, net of the cell means within each random half (seed `split_seed`,
    default the sample's), as in `wwvw.estimation.instruments.split_sample_propensities`. They do
    not depend on the caseworker labels (neither do the halves)."""
    residualised = not sample.instruments.endswith("raw")
    rows = np.ones(sample.n, dtype=bool) if mask is None else mask
    half = None
    if mask is None and sample.instruments.startswith("split"):
        half = random_halves(sample.n, sample.split_seed if split_seed is None else split_seed)
    targets = np.full((sample.n, len(TREATMENTS)), np.nan)
    targets[rows] = referral_targets(
        sample.frame.filter(pl.Series(rows)), TREATMENTS, residualised, half
    )
    return targets


def propensities_for(
    sample: Sample,
    caseworkers: np.ndarray,
    split_seed: int | None = None,
    mask: np.ndarray | None = None,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """(n, 2) propensities of the sample's kind for other caseworker codes (e.g. permuted labels).

    With `mask`, the propensity of every client is computed from the caseworker's clients in the
    mask only (the reverse-sample instrument: pass the complement of a subgroup), residualised on
    the cells within the mask. Split-sample instruments use the halves of `split_seed` (default
    the sample's). `targets`: `propensity_targets(sample, mask, split_seed)`, if already known.
    """
    split_seed = sample.split_seed if split_seed is None else split_seed
    targets = propensity_targets(sample, mask, split_seed) if targets is None else targets
    if mask is not None:
        return np.column_stack([other_half_mean(t, caseworkers, ~mask) for t in targets.T])
    if sample.instruments.startswith("loo"):
        return np.column_stack([leave_one_out_mean(t, caseworkers) for t in targets.T])
    half = random_halves(sample.n, split_seed)
    return np.column_stack([other_half_mean(t, caseworkers, half) for t in targets.T])


# ----------------------------------------------------------------------------- subgroups
def level_values(frame: pl.DataFrame, characteristic: str) -> np.ndarray:
    """The levels of a characteristic as strings (booleans as 'true'/'false')."""
    return frame[characteristic].cast(pl.String).fill_null("missing").to_numpy().astype(str)


def ordered_levels(characteristic: str, present: Sequence[str]) -> list[str]:
    """Levels in reading order: the known order first, then the others sorted."""
    known = LEVEL_ORDER.get(characteristic, BOOLEAN_LEVELS)
    first = [level for level in known if level in present]
    return first + sorted(set(present) - set(first))


@dataclass(frozen=True)
class Subgroup:
    characteristic: str
    level: str
    mask: np.ndarray  # rows of the sample in the subgroup

    @property
    def label(self) -> str:
        return f"{self.characteristic}={self.level}"


def subgroups(
    sample: Sample, characteristics: Sequence[str], min_size: int
) -> tuple[list[Subgroup], list[tuple[str, str, int]]]:
    """Subgroups with at least `min_size` clients, and the (characteristic, level, n) left out."""
    kept, skipped = [], []
    for characteristic in characteristics:
        values = level_values(sample.frame, characteristic)
        for level in ordered_levels(characteristic, np.unique(values).tolist()):
            mask = values == level
            if mask.sum() >= min_size:
                kept.append(Subgroup(characteristic, level, mask))
            else:
                skipped.append((characteristic, level, int(mask.sum())))
    return kept, skipped


# ----------------------------------------------------------------------------- controls
def covariates_within(
    sample: Sample, mask: np.ndarray | None = None, exclude: Sequence[str] = ()
) -> np.ndarray | None:
    """Covariate dummies of the rows in `mask`, without the variables in `exclude` and without
    dummies that are (almost) constant there (fewer than MIN_LEVEL_COUNT ones or zeros)."""
    if not sample.use_covariates:
        return None
    rows = slice(None) if mask is None else mask
    keep = [
        k
        for k, name in enumerate(sample.covariate_names)
        if name.split("=", 1)[0] not in set(exclude)
    ]
    matrix = sample.covariates[rows][:, keep]
    ones = matrix.sum(axis=0)
    n = matrix.shape[0]
    varying = (ones >= MIN_LEVEL_COUNT) & (ones <= n - MIN_LEVEL_COUNT)
    return matrix[:, varying]


def controls_for(
    sample: Sample, mask: np.ndarray | None = None, exclude: Sequence[str] = ()
) -> Controls:
    """Cell fixed effects (and covariates, if the sample uses them) of the rows in `mask`."""
    cells = sample.cells if mask is None else group_codes(sample.cells[mask])[0]
    return make_controls(cells, covariates_within(sample, mask, exclude))


def cell_controls(sample: Sample, mask: np.ndarray | None = None) -> Controls:
    """Cell fixed effects only (balance regressions, where covariates are the outcomes)."""
    cells = sample.cells if mask is None else group_codes(sample.cells[mask])[0]
    return make_controls(cells)


def regress(
    dependent: np.ndarray, regressors: np.ndarray, controls: Controls, names: Sequence[str]
) -> MomentFit:
    """OLS of `dependent` on `regressors` with the controls partialled out of both."""
    return ols(
        controls.residualise(dependent),
        controls.residualise(regressors),
        names,
        controls.n_absorbed,
    )
