"""Inference shared by the checks: joint covariances of fits on subsets, Wald tests, result rows.

Several checks compare coefficients estimated on different subsets of one sample (subgroup first
stages against the overall one, IV effects across the levels of a characteristic). All subsets
share the caseworkers, so the estimates are correlated; their joint covariance is the stacked
cluster-robust sandwich (Liang and Zeger 1986; e.g. Cameron and Miller 2015, sec. VI):

    V = B [ sum_g s_g s_g' ] B',   B = blockdiag((Q_f'X_f)^{-1}),   s_g = sum_{i in g} (Q_i e_i)_f,

with each fit's scores put back on the rows of the full sample (zero outside its subset) and
scaled by the square root of its own CR1 factor, so that every diagonal block is exactly that
fit's own clustered variance (`wwvw.estimation.variance.sandwich_vcov`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from wwvw.estimation import distributions as dist
from wwvw.estimation.variance import (
    MomentFit,
    cluster_score_sums,
    count_clusters,
    small_sample_factor,
)

NORMAL_95 = float(dist.norm_isf(0.025))


def joint_vcov(
    fits: Sequence[MomentFit],
    masks: Sequence[np.ndarray | None],
    clusters: np.ndarray | None,
) -> np.ndarray:
    """Joint covariance of the coefficients of fits estimated on subsets of the same rows.

    masks[f] selects the rows fit f was estimated on (None: all rows; its scores are in that
    order); clusters are codes over all rows (None: heteroskedasticity-robust, one row each).
    """
    n = next((m.size for m in masks if m is not None), fits[0].n)
    blocks, breads = [], []
    for fit, mask in zip(fits, masks, strict=True):
        rows = np.ones(n, dtype=bool) if mask is None else mask
        own_clusters = None if clusters is None else clusters[rows]
        factor = small_sample_factor(fit.n, fit.n_params, count_clusters(own_clusters))
        scores = np.zeros((n, fit.coef.size))
        scores[rows] = fit.scores * np.sqrt(factor)
        blocks.append(scores)
        breads.append(fit.bread)
    scores = np.hstack(blocks)
    sums = scores if clusters is None else cluster_score_sums(scores, clusters)
    bread = linalg.block_diag(*breads)
    return bread @ (sums.T @ sums) @ bread.T


def wald_test(
    coef: np.ndarray, vcov: np.ndarray, restrictions: np.ndarray, n_clusters: int | None = None
) -> dict:
    """Wald test of R b = 0: chi-squared statistic, df, p-value; with clusters also F = W/q and
    its p-value from F(q, G - 1), the usual small-sample reference for clustered tests."""
    r = np.atleast_2d(restrictions)
    value = r @ coef
    middle = r @ vcov @ r.T
    statistic = float(value @ linalg.pinv(middle, atol=0.0, rtol=1e-12) @ value)
    q = r.shape[0]
    out = {
        "statistic": statistic,
        "df": q,
        "pvalue_chi2": float(dist.chi2_sf(statistic, q)),
    }
    if n_clusters is not None and n_clusters > 1:
        out["f_statistic"] = statistic / q
        out["pvalue_f"] = float(dist.f_sf(statistic / q, q, n_clusters - 1))
    return out


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error rate, any dependence)."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def equality_restrictions(k: int) -> np.ndarray:
    """(k-1) x k contrasts b_1 - b_j = 0: all k coefficients equal."""
    return np.hstack([np.ones((k - 1, 1)), -np.eye(k - 1)])


def normal_inference(coef: float, se: float) -> dict:
    """95% interval and two-sided p-value from the normal approximation."""
    if not np.isfinite(se) or se <= 0:
        return {"ci_low": np.nan, "ci_high": np.nan, "pvalue": np.nan}
    return {
        "ci_low": coef - NORMAL_95 * se,
        "ci_high": coef + NORMAL_95 * se,
        "pvalue": float(2 * dist.norm_sf(abs(coef / se))),
    }


def coefficient_rows(
    fit: MomentFit, vcov: np.ndarray, labels: Sequence[str], n_clusters: int | None, **fixed
) -> list[dict]:
    """One row per coefficient: `regressor` label, coef, se, interval, p, n, n_clusters."""
    se = np.sqrt(np.diag(vcov))
    rows = []
    for k, label in enumerate(labels):
        coef = float(fit.coef[k])
        rows.append(
            fixed
            | {"regressor": label, "coef": coef, "se": float(se[k])}
            | normal_inference(coef, float(se[k]))
            | {"n": fit.n, "n_clusters": n_clusters}
        )
    return rows
