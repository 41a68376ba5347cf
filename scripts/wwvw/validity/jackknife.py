"""UJIVE and JIVE1 for repeated estimation (bootstrap, Monte Carlo, subgroups).

The estimators and their projections are those of `wwvw.estimation.jackknife` (`loo_fits`:
H_ZW = H_W + H_{M_W Z}, Frisch-Waugh-Lovell, with the J x J pseudo-inverse of Z'M_W Z and no
dense design); this module keeps the names the design checks call them by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from wwvw.estimation.fixed_effects import Controls
from wwvw.estimation.jackknife import (  # noqa: F401  (loo_fits re-exported for the Monte Carlo)
    jive1_fit,
    loo_fits,
    ujive_fit,
)
from wwvw.estimation.variance import MomentFit


def orthonormal_columns(matrix: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis of the column space of `matrix` from the eigen-decomposition of M'M.

    Directions with eigenvalue below rtol x the largest are dropped (collinear columns, such as
    the sum of caseworker dummies, which the cell dummies already span). One re-orthogonalisation
    pass removes the rounding error that squaring the condition number introduces.
    """
    if matrix.shape[1] == 0:
        return np.empty((matrix.shape[0], 0))
    values, vectors = np.linalg.eigh(matrix.T @ matrix)
    keep = values > rtol * max(values.max(), 1e-300)
    basis = matrix @ (vectors[:, keep] / np.sqrt(values[keep]))
    chol = np.linalg.cholesky(basis.T @ basis)
    return linalg.solve_triangular(chol, basis.T, lower=True).T


def fast_ujive(
    outcome: np.ndarray,
    endogenous: np.ndarray,
    instrument_codes: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """UJIVE (Kolesar 2013) with group dummies as instruments; equals estimation.jackknife.ujive."""
    loo_zw, loo_w = loo_fits(endogenous, instrument_codes, controls)
    return ujive_fit(loo_zw - loo_w, outcome, endogenous, controls, names)


def fast_jive1(
    outcome: np.ndarray,
    endogenous: np.ndarray,
    instrument_codes: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """JIVE1 (Angrist, Imbens and Krueger 1999); equals estimation.jackknife.jive1."""
    loo_zw, _ = loo_fits(endogenous, instrument_codes, controls)
    return jive1_fit(controls.residualise(loo_zw), outcome, endogenous, controls, names)
