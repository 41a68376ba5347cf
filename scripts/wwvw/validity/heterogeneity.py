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
with the bootstrap distribution of the studentised estimates from resampling caseworkers with
replacement (all their clients; the cluster bootstrap that matches the caseworker clustering; a
caseworker drawn twice enters as two caseworkers). Instruments and controls are recomputed in
every bootstrap sample, so the correction is valid for the IV estimators themselves. The same
draws give simultaneous 95% intervals (the max-|t| critical value of the family).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wwvw.estimation.linear import two_stage_least_squares
from wwvw.estimation.matrices import TREATMENTS, group_codes
from wwvw.estimation.variance import MomentFit, sandwich_vcov

from .inference import equality_restrictions, holm, joint_vcov, normal_inference, wald_test
from .jackknife import fast_ujive
from .parallel import payload, run_parallel
from .samples import Sample, Subgroup, build_sample, controls_for, subgroups

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
    """Rows of the mask whose caseworker has min_caseload clients and whose cell two (in it)."""
    rows = mask.copy()
    for _ in range(5):
        caseload = np.bincount(sample.caseworkers[rows], minlength=sample.caseworkers.max() + 1)
        cell_size = np.bincount(sample.cells[rows], minlength=sample.cells.max() + 1)
        keep = (
            rows & (caseload[sample.caseworkers] >= min_caseload) & (cell_size[sample.cells] >= 2)
        )
        if np.array_equal(keep, rows):
            break
        rows = keep
    return rows


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


# ----------------------------------------------------------------------------- bootstrap
def resample_caseworkers(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """A cluster-bootstrap sample: caseworkers drawn with replacement, each with all its clients;
    a caseworker drawn k times enters as k distinct caseworkers."""
    codes, labels = group_codes(frame["caseworker"])
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes))])
    draws = rng.integers(0, labels.size, labels.size)
    index = np.concatenate([order[bounds[d] : bounds[d + 1]] for d in draws])
    names = np.repeat([f"{labels[d]}#{b}" for b, d in enumerate(draws)], np.diff(bounds)[draws])
    return frame[index].with_columns(pl.Series("caseworker", names))


def bootstrap_draw(seed: int) -> dict[tuple[str, str, str], tuple]:
    """One bootstrap replication (run in a worker; settings from the payload)."""
    shared = payload()
    frame = resample_caseworkers(shared["frame"], np.random.default_rng(seed))
    settings = shared["settings"]
    sample = build_sample(frame, **settings["sample"])
    groups, _ = subgroups(sample, settings["characteristics"], 0)
    groups = [g for g in groups if g.label in settings["labels"]]
    fits = subgroup_estimates(
        sample, groups, settings["estimators"], settings["min_caseload"], settings["se_type"]
    )
    return coefficient_table(fits)


def studentised_deviations(draws: list[dict], observed: dict, keys: list) -> np.ndarray:
    """(B, S) |b* - b| / se* of the hypotheses `keys` (NaN where a draw could not estimate)."""
    out = np.full((len(draws), len(keys)), np.nan)
    for b, draw in enumerate(draws):
        for s, key in enumerate(keys):
            coef, se = draw.get(key, (np.nan, np.nan))
            out[b, s] = abs(coef - observed[key][0]) / se
    return out


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


def bootstrap_draws(
    sample: Sample,
    settings: dict,
    replications: int,
    seed: int,
    processes: int,
) -> list[dict]:
    """`replications` cluster-bootstrap coefficient tables."""
    seeds = np.random.SeedSequence(seed).generate_state(replications).tolist()
    shared = {"frame": sample.frame, "settings": settings}
    return run_parallel(bootstrap_draw, seeds, processes, shared)


def multiple_testing(
    observed: dict, draws: list[dict], estimators: Sequence[str], labels: Sequence[str]
) -> tuple[dict, dict]:
    """Romano-Wolf p-values per hypothesis and the max-|t| 95% critical value per family
    (estimator x treatment); NaN without bootstrap draws."""
    adjusted, critical = {}, {}
    for estimator in estimators:
        for treatment in TREATMENTS:
            keys = [(estimator, label, treatment) for label in labels]
            coef = np.array([observed[k][0] for k in keys])
            se = np.array([observed[k][1] for k in keys])
            t_boot = studentised_deviations(draws, observed, keys)
            if draws:
                p = romano_wolf(np.nan_to_num(np.abs(coef / se), nan=0.0), t_boot)
                maxima = np.nanmax(t_boot, axis=1)
                crit = float(np.quantile(maxima[np.isfinite(maxima)], 0.95))
            else:
                p, crit = np.full(len(keys), np.nan), np.nan
            adjusted.update(dict(zip(keys, p, strict=True)))
            critical[(estimator, treatment)] = crit
    return adjusted, critical


# ----------------------------------------------------------------------------- table
def heterogeneity_table(
    sample: Sample,
    characteristics: Sequence[str],
    min_size: int,
    estimators: Sequence[str] = ESTIMATORS,
    min_caseload: int = 2,
    replications: int = 199,
    seed: int = 0,
    processes: int = 1,
    sample_settings: dict | None = None,
    se_type: str = "hetero",
) -> pl.DataFrame:
    """heterogeneity.csv: subgroup estimates, equality tests, Romano-Wolf p-values.

    sample_settings: the keyword arguments of `build_sample` that made `sample` (instruments,
    min_caseload, covariates, split_seed), to rebuild it in every bootstrap sample.
    """
    groups, _ = subgroups(sample, characteristics, min_size)
    fits = subgroup_estimates(sample, groups, estimators, min_caseload, se_type)
    observed = coefficient_table(fits)
    settings = {
        "se_type": se_type,
        "sample": sample_settings or {},
        "characteristics": list(characteristics),
        "estimators": list(estimators),
        "min_caseload": min_caseload,
        "labels": [g.label for g in groups],
    }
    draws = bootstrap_draws(sample, settings, replications, seed, processes) if replications else []
    labels = [g.label for g in groups]
    adjusted, critical = multiple_testing(observed, draws, estimators, labels)
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
                        "bootstrap_replications": len(draws),
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
