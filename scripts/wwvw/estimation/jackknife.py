"""Jackknife IV: UJIVE (Kolesar 2013) and JIVE1 (Angrist, Imbens and Krueger 1999).

Instruments are caseworker dummies Z, controls W are cell dummies (+ covariates). For a design
matrix A with hat matrix H_A = A(A'A)^- A' and diagonal D_A, the fitted value of x_i from the
regression without observation i is (Miller 1974; the PRESS identity)

    xhat_(-i) = ((H_A x)_i - h_ii x_i) / (1 - h_ii),   i.e.  (I - D_A)^{-1} (H_A - D_A) x.

UJIVE uses the difference between the leave-one-out fits of the full first stage (A = [Z, W]) and
of the controls-only regression (A = W) as the instrument,

    P = (I - D_ZW)^{-1}(H_ZW - D_ZW) - (I - D_W)^{-1}(H_W - D_W),   b = (X'P'Y) / (X'P'X),

in matrix form b = (Xhat'X)^{-1} Xhat'Y with Xhat = P X for several treatments (Kolesar 2013,
"Estimation in instrumental variables models with heterogeneous effects"; Goldsmith-
Pinkham, Hull and Kolesar 2025, "Leniency designs: an operator's manual"; Stata manyiv).
Its variance is the IV sandwich with Xhat as instrument and residuals M_W(Y - X b), as in manyiv.
JIVE1 uses only the full-model leave-one-out fit, with W partialled out of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wwvw.core.errors import DeliveryError

from .fixed_effects import Controls, orthonormal_basis
from .linear import as_matrix, instrumented_fit
from .matrices import indicator_matrix
from .variance import MomentFit

LEVERAGE_LIMIT = 1 - 1e-8


class LeverageError(DeliveryError, ValueError):
    """Observations with leverage 1: the sample is too thin for leave-one-out fits."""


def leverage_one_message(n_bad: int, n: int | None = None) -> str:
    """Why leave-one-out fits are undefined for `n_bad` observations (of `n`) with leverage 1."""
    sample = (
        f"the estimation sample of {n} clients is too small or too thinly spread over "
        "caseworkers, cells and covariate levels for the leniency estimates (it needs cells with "
        "two or more caseworkers of two or more clients each, and a cohort of some hundreds of "
        "clients): "
        if n is not None
        else ""
    )
    return sample + (
        f"{n_bad} observations have leverage 1, so their leave-one-out fitted value is undefined: "
        "a caseworker or an assignment cell with a single client in the sample, or a covariate "
        "value that only one client has in a cell; drop those clients (prepare_sample drops "
        "one-client caseworkers and cells) or merge the covariate level"
    )


def hat_diagonal(basis: np.ndarray) -> np.ndarray:
    """h_ii of the projection onto the span of an orthonormal basis Q: row sums of Q**2."""
    return np.einsum("ij,ij->i", basis, basis)


def leave_one_out_fitted(targets: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Fitted values of each target column at i from the regression on `design` without row i."""
    basis = orthonormal_basis(design)
    leverage = hat_diagonal(basis)
    if np.any(leverage > LEVERAGE_LIMIT):
        bad = int(np.sum(leverage > LEVERAGE_LIMIT))
        raise LeverageError(leverage_one_message(bad, len(leverage)))
    y = as_matrix(targets)
    fitted = basis @ (basis.T @ y)
    return (fitted - leverage[:, None] * y) / (1 - leverage[:, None])


def jackknife_designs(instrument_codes: np.ndarray, controls: Controls) -> tuple[np.ndarray, ...]:
    """The two first-stage designs: [instrument dummies, W] and W."""
    controls_matrix = controls.dense_matrix()
    dummies = indicator_matrix(instrument_codes).toarray()
    return np.hstack([dummies, controls_matrix]), controls_matrix


def ujive_instrument(
    endogenous: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> np.ndarray:
    """Xhat_UJIVE: leave-one-out fit on [Z, W] minus leave-one-out fit on W."""
    full, controls_only = jackknife_designs(instrument_codes, controls)
    return leave_one_out_fitted(endogenous, full) - leave_one_out_fitted(endogenous, controls_only)


def jive1_instrument(
    endogenous: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> np.ndarray:
    """Xhat_JIVE1: leave-one-out fit on [Z, W], with the controls partialled out of it."""
    full, _ = jackknife_designs(instrument_codes, controls)
    return controls.residualise(leave_one_out_fitted(endogenous, full))


def ujive(
    outcome: np.ndarray,
    endogenous: np.ndarray,
    instrument_codes: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """UJIVE with caseworker (or other group) dummies as instruments; any number of treatments."""
    constructed = ujive_instrument(endogenous, instrument_codes, controls)
    return ujive_fit(constructed, outcome, endogenous, controls, names)


def jive1(
    outcome: np.ndarray,
    endogenous: np.ndarray,
    instrument_codes: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """JIVE1 (AIK 1999) with the controls as included exogenous regressors."""
    constructed = jive1_instrument(endogenous, instrument_codes, controls)
    return jive1_fit(constructed, outcome, endogenous, controls, names)


def ujive_fit(
    constructed: np.ndarray,
    outcome: np.ndarray,
    endogenous: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """UJIVE's second step, given its constructed instrument however it was computed: the
    treatments instrumented by it, with residuals M_W(Y - X b) in the sandwich, as in manyiv."""
    return instrumented_fit(
        constructed,
        endogenous,
        outcome,
        names,
        controls.n_absorbed,
        residual_regressors=controls.residualise(endogenous),
        residual_outcome=controls.residualise(outcome),
    )


def jive1_fit(
    constructed: np.ndarray,
    outcome: np.ndarray,
    endogenous: np.ndarray,
    controls: Controls,
    names: Sequence[str],
) -> MomentFit:
    """JIVE1's second step, given its constructed instrument (the leave-one-out fit on [Z, W] with
    the controls partialled out): the residualised treatments instrumented by it."""
    return instrumented_fit(
        constructed,
        controls.residualise(endogenous),
        controls.residualise(outcome),
        names,
        controls.n_absorbed,
    )
