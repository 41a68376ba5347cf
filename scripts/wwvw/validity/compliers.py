"""Compliers of the leniency design: how many, and how they differ from the cohort.

Dahl, Kostol and Mogstad (2014, QJE, sec. IV.C and Table 3), as in Dobbie, Goldin and Yang (2018,
AER) and Bhuller, Dahl, Loken and Mogstad (2020, JPE): with a linear first stage
D = a + pi Z + cell effects, compliers of margin d are the clients who would be referred to d by
the most lenient caseworker (propensity z_high, a high quantile) but not by the least lenient
(z_low). Their share is pi (z_high - z_low); always-takers are referred to d even by z_low,
never-takers not even by z_high:

    share_always = E[D] + pi (z_low - E[Z]),   share_never = 1 - E[D] - pi (z_high - E[Z]).

For a characteristic x, P[X = x | complier] / P[X = x] = pi_x / pi, the ratio of the first stage
within the subgroup to the overall first stage (same z_low and z_high); the complier share of the
level is that ratio times its cohort share. Standard errors of the ratio by the delta method from
the joint caseworker-clustered covariance of the two first stages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from wwvw.estimation.matrices import TREATMENTS

from .inference import joint_vcov, normal_inference
from .monotonicity import own_first_stage
from .samples import Sample, controls_for, subgroups

COMPLIERS_SCHEMA = {
    "section": pl.String,
    "treatment": pl.String,
    "characteristic": pl.String,
    "level": pl.String,
    "share_cohort": pl.Float64,
    "first_stage": pl.Float64,
    "first_stage_overall": pl.Float64,
    "ratio": pl.Float64,
    "ratio_se": pl.Float64,
    "ratio_ci_low": pl.Float64,
    "ratio_ci_high": pl.Float64,
    "ratio_pvalue_equal_1": pl.Float64,
    "share_of_compliers": pl.Float64,
    "share_compliers": pl.Float64,
    "share_always_takers": pl.Float64,
    "share_never_takers": pl.Float64,
    "z_low": pl.Float64,
    "z_high": pl.Float64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}


def complier_shares(sample: Sample, quantiles: tuple[float, float]) -> list[dict]:
    """Complier, always-taker and never-taker shares of each treatment margin."""
    rows = []
    controls = controls_for(sample)
    for k, treatment in enumerate(TREATMENTS):
        fit = own_first_stage(sample, k, sample.propensities[:, k])
        pi = float(fit.coef[0])
        z = controls.residualise(sample.propensities[:, k])  # net of cells and covariates
        z_low, z_high = (float(v) for v in np.quantile(z, quantiles))
        mean_d = float(sample.treatments[:, k].mean())
        rows.append(
            {
                "section": "shares",
                "treatment": treatment,
                "characteristic": "all",
                "level": "all",
                "share_cohort": 1.0,
                "first_stage": pi,
                "first_stage_overall": pi,
                "share_compliers": pi * (z_high - z_low),
                "share_always_takers": mean_d + pi * z_low,
                "share_never_takers": 1 - mean_d - pi * z_high,
                "z_low": z_low,
                "z_high": z_high,
                "n": sample.n,
                "n_clusters": sample.n_clusters,
            }
        )
    return rows


def complier_characteristics(
    sample: Sample, characteristics: Sequence[str], min_size: int, quantiles: tuple[float, float]
) -> list[dict]:
    """P[X = x | complier] / P[X = x] = pi_x / pi per treatment margin and subgroup."""
    groups, _ = subgroups(sample, characteristics, min_size)
    controls = controls_for(sample)
    rows = []
    for k, treatment in enumerate(TREATMENTS):
        z = sample.propensities[:, k]
        overall = own_first_stage(sample, k, z)
        z_low, z_high = np.quantile(controls.residualise(z), quantiles)
        for group in groups:
            fit = own_first_stage(sample, k, z, group.mask)
            vcov = joint_vcov([fit, overall], [group.mask, None], sample.caseworkers)
            pi_x, pi = float(fit.coef[0]), float(overall.coef[0])
            ratio = pi_x / pi
            gradient = np.array([1 / pi, -pi_x / pi**2])
            se = float(np.sqrt(gradient @ vcov @ gradient))
            test = normal_inference(ratio - 1, se)
            share = float(group.mask.mean())
            rows.append(
                {
                    "section": "characteristics",
                    "treatment": treatment,
                    "characteristic": group.characteristic,
                    "level": group.level,
                    "share_cohort": share,
                    "first_stage": pi_x,
                    "first_stage_overall": pi,
                    "ratio": ratio,
                    "ratio_se": se,
                    "ratio_ci_low": test["ci_low"] + 1,
                    "ratio_ci_high": test["ci_high"] + 1,
                    "ratio_pvalue_equal_1": test["pvalue"],
                    "share_of_compliers": ratio * share,
                    "z_low": float(z_low),
                    "z_high": float(z_high),
                    "n": fit.n,
                    "n_clusters": int(np.unique(sample.caseworkers[group.mask]).size),
                }
            )
    return rows


def complier_table(
    sample: Sample,
    characteristics: Sequence[str],
    min_size: int,
    quantiles: tuple[float, float] = (0.01, 0.99),
) -> pl.DataFrame:
    """compliers.csv: shares per margin, then characteristics of the compliers."""
    rows = complier_shares(sample, quantiles)
    rows += complier_characteristics(sample, characteristics, min_size, quantiles)
    return pl.DataFrame(rows, schema=COMPLIERS_SCHEMA)
