"""What works for whom: IV effects by subgroup, tests of equality, multiple-testing correction.

For every level of every Table 1 characteristic, the joint model (Matching and Activering, each
against Prematching) is estimated within the subgroup, with cell fixed effects and the
specification's covariates partialled out, by

- 2sls: the caseworker propensities computed on the whole cohort as instruments (the subgroup
  shares the caseworkers' leniency; e.g. Dobbie, Goldin and Yang 2018; Bhuller et al. 2020), and
- ujive: caseworker dummies within the subgroup (Kolesar 2013), which uses only how the caseworker
  treats clients of this kind (caseworkers with fewer than `min_caseload` clients in the subgroup,
  and cells with fewer than two, are dropped).

Standard errors are heteroskedasticity-robust by default, like the headline estimate (caseworkers
are assigned client by client, so the design does not call for clustering; with 60 caseworkers the
clustered variance is noisy and its intervals under-cover, as the Monte Carlo shows), or clustered
by caseworker (`se_type="cluster:caseworker"`, config `validity.heterogeneity_se_type`). Equality
across the levels of a characteristic is a Wald test with the stacked covariance of the level
estimates (with clustering, levels that share caseworkers covary); `pvalue_holm` adjusts these
tests for their number within each estimator and treatment (Holm 1979).

Multiple testing: Romano and Wolf (2005, Econometrica; 2016, Stat. Prob. Letters) step-down
adjusted p-values for H0: effect = 0 in each subgroup, within each family (estimator x treatment),
and simultaneous 95% intervals (the max-|t| critical value of the family: the sup-t band of
Montiel Olea and Plagborg-Moller 2019). Both need the joint distribution of the family's
studentised estimates; it is the normal with the joint sandwich covariance of all subgroup fits
(the stacked scores of `inference.joint_vcov`, robust or clustered like the standard errors, so
subgroups that share clients or caseworkers covary). Its draws are the Gaussian multiplier (score)
bootstrap of the estimators' influence functions (Kline and Santos 2012; Chernozhukov, Chetverikov
and Kato 2013) with the instruments held fixed, as in the standard errors: `replications` draws
cost milliseconds, where re-estimating every subgroup in every caseworker-resampled cohort cost
40 s for 199 draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wwvw.estimation.instruments import usable_mask
from wwvw.estimation.linear import two_stage_least_squares
from wwvw.estimation.matrices import TREATMENTS, group_codes
from wwvw.estimation.variance import MomentFit, sandwich_vcov

from .inference import equality_restrictions, holm, joint_vcov, normal_inference, wald_test
from .jackknife import fast_ujive
from .samples import Sample, Subgroup, controls_for, subgroups

SE_TYPES = ("hetero", "cluster:caseworker")
HETEROGENEITY_SCHEMA = {
    "characteristic": pl.String,
    "level": pl.String,
    "treatment": pl.String,
    "estimator": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "pvalue_romano_wolf": pl.Float64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
    "row": pl.String,
    "statistic": pl.Float64,
    "df": pl.Int64,
    "ci_low_simultaneous": pl.Float64,
    "ci_high_simultaneous": pl.Float64,
    "pvalue_holm": pl.Float64,
    "bootstrap_replications": pl.Int64,
}
ESTIMATORS = ("2sls", "ujive")


@dataclass(frozen=True)
class SubgroupFit:
    fit: MomentFit | None  # None if the subgroup is too small for the estimator
    rows: np.ndarray  # rows of the sample the fit used
    se: np.ndarray  # caseworker-clustered standard errors
    clusters: np.ndarray  # caseworker codes of those rows

    @property
    def n_clusters(self) -> int:
        return int(np.unique(self.clusters).size)


def usable_rows(sample: Sample, mask: np.ndarray, min_caseload: int) -> np.ndarray:
    """Rows of the mask whose caseworker has min_caseload clients and whose cell two (in it),
    dropped repeatedly until stable (`wwvw.estimation.instruments.usable_mask`)."""
    return usable_mask(sample.caseworkers, sample.cells, min_caseload, mask)


def fit_subgroup(
    sample: Sample,
    mask: np.ndarray | None,
    estimator: str,
    min_caseload: int,
    se_type: str = "hetero",
) -> SubgroupFit:
    """The joint IV model within the rows of `mask` (all rows if None)."""
    mask = np.ones(sample.n, dtype=bool) if mask is None else mask
    if estimator == "2sls":
        rows = mask
    elif estimator == "ujive":
        rows = usable_rows(sample, mask, min_caseload)
    else:
        raise ValueError(f"unknown estimator {estimator!r}; expected one of {ESTIMATORS}")
    clusters = sample.caseworkers[rows]
    if rows.sum() < 10 or np.unique(clusters).size < 3:
        return SubgroupFit(None, rows, np.full(len(TREATMENTS), np.nan), clusters)
    controls = controls_for(sample, rows)
    if rows.sum() <= controls.n_absorbed + len(TREATMENTS) + 1:
        return SubgroupFit(None, rows, np.full(len(TREATMENTS), np.nan), clusters)
    try:
        if estimator == "2sls":
            fit = two_stage_least_squares(
                controls.residualise(sample.outcome[rows]),
                controls.residualise(sample.treatments[rows]),
                controls.residualise(sample.propensities[rows]),
                TREATMENTS,
                controls.n_absorbed,
            )
        else:
            codes, _ = group_codes(clusters)
            fit = fast_ujive(
                sample.outcome[rows], sample.treatments[rows], codes, controls, TREATMENTS
            )
    except (ValueError, np.linalg.LinAlgError):
        return SubgroupFit(None, rows, np.full(len(TREATMENTS), np.nan), clusters)
    se = np.sqrt(np.diag(sandwich_vcov(fit, clusters if se_type != "hetero" else None)))
    return SubgroupFit(fit, rows, se, clusters)


def subgroup_estimates(
    sample: Sample,
    groups: Sequence[Subgroup],
    estimators: Sequence[str],
    min_caseload: int,
    se_type: str = "hetero",
) -> dict[tuple[str, str], SubgroupFit]:
    """(estimator, subgroup label or 'all') -> fit."""
    if se_type not in SE_TYPES:
        raise ValueError(f"unknown se_type {se_type!r}; expected one of {SE_TYPES}")
    out = {}
    for estimator in estimators:
        out[(estimator, "all")] = fit_subgroup(sample, None, estimator, min_caseload, se_type)
        for group in groups:
            out[(estimator, group.label)] = fit_subgroup(
                sample, group.mask, estimator, min_caseload, se_type
            )
    return out


def coefficient_table(
    fits: dict[tuple[str, str], SubgroupFit],
) -> dict[tuple[str, str, str], tuple]:
    """(estimator, label, treatment) -> (coef, se) for every fit (NaN where it failed)."""
    out = {}
    for (estimator, label), sub in fits.items():
        for k, treatment in enumerate(TREATMENTS):
            coef = np.nan if sub.fit is None else float(sub.fit.coef[k])
            out[(estimator, label, treatment)] = (coef, float(sub.se[k]))
    return out


# ----------------------------------------------------------------------------- simultaneous
def family_correlation(
    sample: Sample,
    fits: dict[tuple[str, str], SubgroupFit],
    estimator: str,
    labels: Sequence[str],
    se_type: str,
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Per treatment: the labels that could be estimated and the correlation matrix of their
    estimates (from the joint sandwich covariance over all of the estimator's subgroup fits)."""
    usable = [label for label in labels if fits[(estimator, label)].fit is not None]
    if not usable:
        return {treatment: ([], np.zeros((0, 0))) for treatment in TREATMENTS}
    subs = [fits[(estimator, label)] for label in usable]
    clusters = None if se_type == "hetero" else sample.caseworkers
    vcov = joint_vcov([s.fit for s in subs], [s.rows for s in subs], clusters)
    width = len(TREATMENTS)
    out = {}
    for k, treatment in enumerate(TREATMENTS):
        pick = [j * width + k for j in range(len(subs))]
        block = vcov[np.ix_(pick, pick)]
        sd = np.sqrt(np.diag(block))
        out[treatment] = (usable, block / np.outer(sd, sd))
    return out


def normal_draws(correlation: np.ndarray, replications: int, seed: int) -> np.ndarray:
    """(replications, S) |t*|: absolute draws from N(0, correlation), the studentised Gaussian
    multiplier bootstrap of estimates with that joint covariance. The square root comes from
    the eigen-decomposition, so a singular matrix (nested subgroups) is fine."""
    values, vectors = np.linalg.eigh(correlation)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    rng = np.random.default_rng(seed)
    return np.abs(rng.standard_normal((replications, correlation.shape[0])) @ root.T)


def romano_wolf(t_observed: np.ndarray, t_bootstrap: np.ndarray) -> np.ndarray:
    """Step-down adjusted p-values (Romano and Wolf 2005, Algorithm 4.1; 2016 eq. 7).

    t_observed: (S,) |t| of the hypotheses; t_bootstrap: (B, S) |t*| of the centred, studentised
    bootstrap estimates. Hypotheses are taken in decreasing order of |t|; the adjusted p-value of
    the k-th is the share of draws whose max |t*| over the hypotheses not yet passed reaches its
    |t|, made monotone.
    """
    order = np.argsort(-t_observed)
    adjusted = np.full(t_observed.size, np.nan)
    previous = 0.0
    for position, s in enumerate(order):
        remaining = order[position:]
        maxima = np.nanmax(t_bootstrap[:, remaining], axis=1)
        valid = np.isfinite(maxima)
        p = (1 + np.sum(maxima[valid] >= t_observed[s])) / (1 + valid.sum())
        previous = max(previous, p)
        adjusted[s] = previous
    return adjusted


def multiple_testing(
    sample: Sample,
    fits: dict[tuple[str, str], SubgroupFit],
    observed: dict,
    estimators: Sequence[str],
    labels: Sequence[str],
    replications: int,
    seed: int,
    se_type: str = "hetero",
) -> tuple[dict, dict]:
    """Romano-Wolf p-values per hypothesis and the max-|t| 95% critical value per family
    (estimator x treatment); NaN without draws. Each family gets its own stream of draws."""
    adjusted, critical = {}, {}
    streams = iter(np.random.SeedSequence(seed).generate_state(len(estimators) * len(TREATMENTS)))
    for estimator in estimators:
        families = family_correlation(sample, fits, estimator, labels, se_type)
        for treatment in TREATMENTS:
            usable, correlation = families[treatment]
            stream = int(next(streams))
            keys = [(estimator, label, treatment) for label in usable]
            if replications and keys:
                coef, se = np.array([observed[k] for k in keys]).T
                t_draws = normal_draws(correlation, replications, stream)
                p = romano_wolf(np.abs(coef / se), t_draws)
                critical[(estimator, treatment)] = float(np.quantile(t_draws.max(axis=1), 0.95))
                adjusted.update(dict(zip(keys, p.tolist(), strict=True)))
            else:
                critical[(estimator, treatment)] = np.nan
    return adjusted, critical


# ----------------------------------------------------------------------------- table
def heterogeneity_table(
    sample: Sample,
    characteristics: Sequence[str],
    min_size: int,
    estimators: Sequence[str] = ESTIMATORS,
    min_caseload: int = 2,
    replications: int = 9999,
    seed: int = 0,
    se_type: str = "hetero",
) -> pl.DataFrame:
    """heterogeneity.csv: subgroup estimates, equality tests, Romano-Wolf p-values and
    simultaneous intervals from `replications` multiplier-bootstrap draws (0: none)."""
    groups, _ = subgroups(sample, characteristics, min_size)
    fits = subgroup_estimates(sample, groups, estimators, min_caseload, se_type)
    observed = coefficient_table(fits)
    labels = [g.label for g in groups]
    adjusted, critical = multiple_testing(
        sample, fits, observed, estimators, labels, replications, seed, se_type
    )
    rows = []
    for estimator in estimators:
        for treatment in TREATMENTS:
            crit = critical[(estimator, treatment)]
            for group in [None, *groups]:
                label = "all" if group is None else group.label
                sub = fits[(estimator, label)]
                coef, se = observed[(estimator, label, treatment)]
                rows.append(
                    {
                        "characteristic": "all" if group is None else group.characteristic,
                        "level": "all" if group is None else group.level,
                        "treatment": treatment,
                        "estimator": estimator,
                        "coef": coef,
                        "se": se,
                        **normal_inference(coef, se),
                        "pvalue_romano_wolf": adjusted.get((estimator, label, treatment)),
                        "n": int(sub.rows.sum()),
                        "n_clusters": sub.n_clusters,
                        "row": "overall" if group is None else "subgroup",
                        "ci_low_simultaneous": None if group is None else coef - crit * se,
                        "ci_high_simultaneous": None if group is None else coef + crit * se,
                        "bootstrap_replications": replications,
                    }
                )
            tests = equality_rows(sample, groups, fits, estimator, treatment, se_type)
            holm_p = holm([t["pvalue"] for t in tests]) if tests else []
            rows += [t | {"pvalue_holm": float(p)} for t, p in zip(tests, holm_p, strict=True)]
    return pl.DataFrame(rows, schema=HETEROGENEITY_SCHEMA)


def equality_rows(
    sample: Sample,
    groups: Sequence[Subgroup],
    fits: dict[tuple[str, str], SubgroupFit],
    estimator: str,
    treatment: str,
    se_type: str = "hetero",
) -> list[dict]:
    """Per characteristic: Wald test that the effect is equal across its levels."""
    k = TREATMENTS.index(treatment)
    rows = []
    for characteristic in dict.fromkeys(g.characteristic for g in groups):
        levels = [g for g in groups if g.characteristic == characteristic]
        subs = [fits[(estimator, g.label)] for g in levels]
        subs = [s for s in subs if s.fit is not None]
        if len(subs) < 2:
            continue
        clusters = None if se_type == "hetero" else sample.caseworkers
        vcov = joint_vcov([s.fit for s in subs], [s.rows for s in subs], clusters)
        width = len(TREATMENTS)
        pick = [j * width + k for j in range(len(subs))]
        coef = np.concatenate([s.fit.coef for s in subs])[pick]
        test = wald_test(coef, vcov[np.ix_(pick, pick)], equality_restrictions(len(subs)))
        rows.append(
            {
                "characteristic": characteristic,
                "level": "equality_test",
                "treatment": treatment,
                "estimator": estimator,
                "pvalue": test["pvalue_chi2"],
                "n": int(np.any([s.rows for s in subs], axis=0).sum()),
                "n_clusters": sample.n_clusters,
                "row": "equality_test",
                "statistic": test["statistic"],
                "df": test["df"],
            }
        )
    return rows


def compare_with_estimates(
    table: pl.DataFrame, estimates: pl.DataFrame, specification: str
) -> pl.DataFrame:
    """The whole-cohort rows next to the same estimates in estimates.csv (the headline
    specification; point estimates do not depend on the standard errors): columns coef,
    coef_estimates, difference."""
    ours = table.filter(pl.col("row") == "overall").select("estimator", "treatment", "coef")
    theirs = estimates.filter(
        (pl.col("model") == "iv")
        & (pl.col("specification") == specification)
        & (pl.col("subgroup") == "all")
        & (pl.col("se_type") == "cluster:caseworker")
        & (pl.col("regressor") == pl.col("treatment"))
    ).select("estimator", "treatment", pl.col("coef").alias("coef_estimates"))
    joined = ours.join(theirs, on=["estimator", "treatment"], how="inner")
    return joined.with_columns(difference=pl.col("coef") - pl.col("coef_estimates"))
