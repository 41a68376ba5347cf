"""Fast UJIVE and JIVE1 for repeated estimation (bootstrap, Monte Carlo, subgroups).

The estimators are exactly those of `wwvw.estimation.jackknife` (Kolesar 2013; Angrist, Imbens and
Krueger 1999): the same constructed instruments, solved and given their sandwich variance by the
same `instrumented_fit`. Only the projections are computed differently. With controls W = [cell
dummies, covariates] and instruments Z = caseworker dummies, the projection onto [Z, W] splits
(Frisch-Waugh-Lovell) into orthogonal parts,

    H_ZW = H_W + H_{M_W Z},   H_W = H_cells + H_{M_cells X},

so the hat diagonals and fitted values need an orthonormal basis of M_W Z only (n x J, J the
number of caseworkers), obtained from the eigen-decomposition of its J x J Gram matrix instead of
a pivoted QR of the dense n x (J + cells + covariates) design. This is two orders of magnitude
faster and agrees with the library to rounding error (tests/test_validity_jackknife.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from wwvw.estimation.fixed_effects import Controls
from wwvw.estimation.jackknife import (
    LEVERAGE_LIMIT,
    LeverageError,
    jive1_fit,
    leverage_one_message,
    ujive_fit,
)
from wwvw.estimation.linear import as_matrix
from wwvw.estimation.matrices import indicator_matrix
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


def controls_leverage(controls: Controls) -> np.ndarray:
    """Diagonal of H_W: 1 / (cell size) plus the leverage of the within-cell covariates."""
    sizes = np.bincount(controls.cells).astype(float)
    basis = controls.covariate_basis
    return 1.0 / sizes[controls.cells] + np.einsum("ij,ij->i", basis, basis)


def instrument_basis(instrument_codes: np.ndarray, controls: Controls) -> np.ndarray:
    """Orthonormal basis of M_W Z, Z the dummies of the instrument groups (caseworkers)."""
    dummies = indicator_matrix(instrument_codes).toarray()
    return orthonormal_columns(controls.residualise(dummies))


def loo_fits(
    values: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out fitted values of each column of `values` on [Z, W] and on W alone."""
    y = as_matrix(values)
    basis = instrument_basis(instrument_codes, controls)
    lev_w = controls_leverage(controls)
    lev_zw = lev_w + np.einsum("ij,ij->i", basis, basis)
    if np.any(lev_zw > LEVERAGE_LIMIT):
        bad = int(np.sum(lev_zw > LEVERAGE_LIMIT))
        raise LeverageError(leverage_one_message(bad, len(lev_zw)))
    fit_w = y - controls.residualise(y)
    fit_zw = fit_w + basis @ (basis.T @ y)
    loo_w = (fit_w - lev_w[:, None] * y) / (1 - lev_w[:, None])
    loo_zw = (fit_zw - lev_zw[:, None] * y) / (1 - lev_zw[:, None])
    return loo_zw, loo_w


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
