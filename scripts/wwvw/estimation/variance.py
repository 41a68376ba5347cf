"""Just-identified moment fits and their sandwich variances (HC1 and CR1).

Every estimator in this package solves Q'(y - X b) = 0 for some n x p 'instrument' matrix Q:
OLS (Q = X), 2SLS (Q = P_Z X, the first-stage fitted values), JIVE1 and UJIVE (Q = a leave-one-out
constructed instrument). Its variance is the sandwich

    V = (Q'X)^{-1} [ sum_g s_g s_g' ] (X'Q)^{-1},   s_g = sum_{i in g} Q_i e_i,

with clusters g (one per observation for heteroskedasticity-robust errors; White 1980, Liang and
Zeger 1986). Small-sample corrections follow Stata and fixest with all absorbed fixed effects
counted in k: HC1 multiplies by n/(n-k), CR1 by G/(G-1) (n-1)/(n-k) (Cameron and Miller 2015,
sec. VI.B). Clustering by client with one row per client therefore reproduces HC1 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matrices import indicator_matrix

SE_TYPES = ("hetero", "cluster:caseworker", "cluster:client")


@dataclass(frozen=True)
class MomentFit:
    """b = (Q'X)^{-1} Q'y with the pieces of its sandwich variance."""

    names: tuple[str, ...]
    coef: np.ndarray  # (p,)
    bread: np.ndarray  # (Q'X)^{-1}, p x p
    scores: np.ndarray  # Q_i e_i, n x p
    n_params: int  # k in the small-sample correction, absorbed fixed effects included

    @property
    def n(self) -> int:
        return self.scores.shape[0]


def cluster_score_sums(scores: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """G x p sums of the score rows within each of the G distinct clusters."""
    _, codes = np.unique(clusters, return_inverse=True)
    return np.asarray(indicator_matrix(codes.ravel()).T @ scores)


def small_sample_factor(n: int, n_params: int, n_clusters: int | None) -> float:
    """n/(n-k) without clusters (HC1); G/(G-1) (n-1)/(n-k) with G clusters (CR1)."""
    if n_clusters is None:
        return n / (n - n_params)
    return n_clusters / (n_clusters - 1) * (n - 1) / (n - n_params)


def sandwich_vcov(fit: MomentFit, clusters: np.ndarray | None) -> np.ndarray:
    """HC1 variance of fit.coef if clusters is None, else CR1 with the given cluster codes."""
    return stacked_sandwich_vcov([fit], clusters)


def stacked_sandwich_vcov(fits: list[MomentFit], clusters: np.ndarray | None) -> np.ndarray:
    """Joint sandwich variance of several fits on the same observations (block-diagonal bread).

    Used for the covariance between reduced-form and first-stage coefficients (Anderson-Rubin).
    All fits must share n and n_params.
    """
    scores = np.hstack([f.scores for f in fits])
    size = sum(f.coef.size for f in fits)
    bread = np.zeros((size, size))
    start = 0
    for f in fits:
        bread[start : start + f.coef.size, start : start + f.coef.size] = f.bread
        start += f.coef.size
    if clusters is None:
        sums, n_clusters = scores, None
    else:
        sums = cluster_score_sums(scores, clusters)
        n_clusters = sums.shape[0]
    meat = sums.T @ sums
    factor = small_sample_factor(fits[0].n, fits[0].n_params, n_clusters)
    return factor * bread @ meat @ bread.T


def count_clusters(clusters: np.ndarray | None) -> int | None:
    """Number of distinct clusters (None for heteroskedasticity-robust errors)."""
    return None if clusters is None else int(np.unique(clusters).size)
