"""OLS, 2SLS and Wald tests on variables from which the controls are already partialled out.

All inputs are M_W-residualised (cell fixed effects and covariates removed, see fixed_effects.py),
so no intercept or control appears here; `n_absorbed` carries the controls' parameter count into
the small-sample correction. 2SLS with p endogenous regressors and L >= p instruments is
b = (X'P_Z X)^{-1} X'P_Z y (e.g. Wooldridge 2010, eq. 5.22), written as the moment fit with
Q = P_Z X, which also gives its sandwich variance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from .variance import MomentFit


def as_matrix(values: np.ndarray) -> np.ndarray:
    """A vector as an n x 1 matrix; matrices unchanged."""
    values = np.asarray(values, dtype=float)
    return values[:, None] if values.ndim == 1 else values


def instrumented_fit(
    instrument: np.ndarray,
    regressors: np.ndarray,
    outcome: np.ndarray,
    names: Sequence[str],
    n_absorbed: int,
    residual_regressors: np.ndarray | None = None,
    residual_outcome: np.ndarray | None = None,
) -> MomentFit:
    """Solve Q'(y - X b) = 0 and keep the scores Q_i e_i for the sandwich.

    The residual e = y_r - X_r b uses `residual_outcome`/`residual_regressors` when given (UJIVE
    takes b from the raw variables but its residuals from the partialled ones, as in Kolesar's
    manyiv), else the variables b was solved from.
    """
    q, x, y = as_matrix(instrument), as_matrix(regressors), np.asarray(outcome, dtype=float)
    bread = linalg.inv(q.T @ x)
    coef = bread @ (q.T @ y)
    x_r = x if residual_regressors is None else as_matrix(residual_regressors)
    y_r = y if residual_outcome is None else np.asarray(residual_outcome, dtype=float)
    residuals = y_r - x_r @ coef
    return MomentFit(
        names=tuple(names),
        coef=coef,
        bread=bread,
        scores=q * residuals[:, None],
        n_params=x.shape[1] + n_absorbed,
    )


def ols(
    outcome: np.ndarray, regressors: np.ndarray, names: Sequence[str], n_absorbed: int
) -> MomentFit:
    """OLS of the (partialled) outcome on the (partialled) regressors."""
    return instrumented_fit(regressors, regressors, outcome, names, n_absorbed)


def first_stage_fitted_values(endogenous: np.ndarray, instruments: np.ndarray) -> np.ndarray:
    """P_Z X: fitted values of each endogenous regressor on all instruments."""
    z = as_matrix(instruments)
    coef, *_ = linalg.lstsq(z, as_matrix(endogenous))
    return z @ coef


def two_stage_least_squares(
    outcome: np.ndarray,
    endogenous: np.ndarray,
    instruments: np.ndarray,
    names: Sequence[str],
    n_absorbed: int,
) -> MomentFit:
    """2SLS with any number of endogenous regressors (p <= number of instruments)."""
    fitted = first_stage_fitted_values(endogenous, instruments)
    return instrumented_fit(fitted, endogenous, outcome, names, n_absorbed)


def wald_statistic(coef: np.ndarray, vcov: np.ndarray) -> float:
    """W = b' V^{-1} b for H0: b = 0 (chi-squared with len(b) degrees of freedom)."""
    coef = np.atleast_1d(coef)
    return float(coef @ linalg.solve(np.atleast_2d(vcov), coef, assume_a="sym"))
