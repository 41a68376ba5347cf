"""Testable implications of monotonicity: first stages by subgroup and the reverse-sample test.

Under (average) monotonicity a caseworker who refers more clients to a department overall must
refer weakly more clients of every kind to it, so the first stage estimated within every subgroup
of clients must be positive (Dobbie, Goldin and Yang 2018, AER, Table A3; Bhuller, Dahl, Loken and
Mogstad 2020, JPE, Table 3; Frandsen, Lefgren and Leslie 2023, AER, sec. I).

- subgroup_first_stage: referral to department d regressed, within the subgroup, on the
  caseworker's propensity for d computed on the whole cohort (cell fixed effects and the
  specification's covariates partialled out, errors clustered by caseworker).
- reverse_sample: the same, but the propensity of a subgroup's clients is computed only from the
  caseworker's clients OUTSIDE the subgroup (residualised on the cells among them), so that it
  measures the caseworker's behaviour towards other kinds of clients (Bhuller et al. 2020).

`positive` flags a positive point estimate; `negative_5pct` a first stage significantly below zero
(two-sided 5%), the evidence against monotonicity. Where hardly any client of a kind is referred
to a department (Activering for clients with a long work history) the first stage is near zero
and its sign is noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from wwvw.estimation.instruments import propensity_column
from wwvw.estimation.matrices import TREATMENTS
from wwvw.estimation.variance import MomentFit, count_clusters, sandwich_vcov

from .inference import normal_inference
from .samples import Sample, Subgroup, controls_for, propensities_for, regress, subgroups

MONOTONICITY_SCHEMA = {
    "test": pl.String,
    "characteristic": pl.String,
    "level": pl.String,
    "treatment": pl.String,
    "instrument": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "positive": pl.Boolean,
    "negative_5pct": pl.Boolean,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}


def own_first_stage(
    sample: Sample, k: int, instrument: np.ndarray, mask: np.ndarray | None = None
) -> MomentFit:
    """Referral to treatment k on its propensity `instrument`, within the rows of `mask`."""
    rows = np.ones(sample.n, dtype=bool) if mask is None else mask
    controls = controls_for(sample, None if mask is None else rows)
    return regress(
        sample.treatments[rows, k],
        instrument[rows],
        controls,
        [propensity_column(TREATMENTS[k])],
    )


def first_stage_row(
    test: str,
    characteristic: str,
    level: str,
    k: int,
    fit: MomentFit,
    clusters: np.ndarray,
) -> dict:
    se = float(np.sqrt(sandwich_vcov(fit, clusters)[0, 0]))
    coef = float(fit.coef[0])
    return {
        "test": test,
        "characteristic": characteristic,
        "level": level,
        "treatment": TREATMENTS[k],
        "instrument": propensity_column(TREATMENTS[k]),
        "coef": coef,
        "se": se,
        **normal_inference(coef, se),
        "positive": coef > 0,
        "negative_5pct": bool(coef < 0 and normal_inference(coef, se)["pvalue"] < 0.05),
        "n": fit.n,
        "n_clusters": count_clusters(clusters),
    }


def subgroup_first_stages(sample: Sample, groups: Sequence[Subgroup]) -> list[dict]:
    """First stage of each treatment on its whole-cohort propensity, overall and per subgroup."""
    rows = []
    for k in range(len(TREATMENTS)):
        z = sample.propensities[:, k]
        fit = own_first_stage(sample, k, z)
        rows.append(
            first_stage_row("subgroup_first_stage", "all", "all", k, fit, sample.caseworkers)
        )
        for group in groups:
            fit = own_first_stage(sample, k, z, group.mask)
            clusters = sample.caseworkers[group.mask]
            rows.append(
                first_stage_row(
                    "subgroup_first_stage", group.characteristic, group.level, k, fit, clusters
                )
            )
    return rows


def reverse_sample_first_stages(
    sample: Sample, groups: Sequence[Subgroup], split_seed: int = 0
) -> list[dict]:
    """First stage within each subgroup on the propensity computed from its complement."""
    rows = []
    for group in groups:
        reverse = propensities_for(sample, sample.caseworkers, split_seed, mask=~group.mask)
        for k in range(len(TREATMENTS)):
            usable = group.mask & np.isfinite(reverse[:, k])
            if usable.sum() < 3:
                continue
            fit = own_first_stage(sample, k, np.nan_to_num(reverse[:, k]), usable)
            clusters = sample.caseworkers[usable]
            rows.append(
                first_stage_row(
                    "reverse_sample", group.characteristic, group.level, k, fit, clusters
                )
            )
    return rows


def monotonicity_table(
    sample: Sample, characteristics: Sequence[str], min_size: int, split_seed: int = 0
) -> pl.DataFrame:
    """monotonicity.csv: subgroup first stages and reverse-sample first stages."""
    groups, _ = subgroups(sample, characteristics, min_size)
    rows = subgroup_first_stages(sample, groups) + reverse_sample_first_stages(
        sample, groups, split_seed
    )
    return pl.DataFrame(rows, schema=MONOTONICITY_SCHEMA)
