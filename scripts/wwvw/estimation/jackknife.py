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
from dataclasses import dataclass

import numpy as np
from scipy import sparse

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


@dataclass(frozen=True)
class InstrumentProjection:
    """The projection onto M_W Z (Z the instrument-group dummies, W the controls) without an
    n x J matrix: H_ZW = H_W + H_{M_W Z} (Frisch-Waugh-Lovell), and with the J x J matrix
    P = (Z' M_W Z)^+, H_{M_W Z} y = M_W Z P Z' M_W y is two group sums and a residualisation.

    Its hat diagonal is r_i' P r_i with row r_i = e_j - s_c - B' q_i of M_W Z (j the client's
    group, s_c the group shares of the client's cell, q_i the client's row of the within-cell
    covariate basis Q, B = Q'Z), expanded into terms of J x J, cells x J and J x p matrices:
    cost linear in the clients (plus J^3 once), where the dense pivoted QR of [Z, W] was
    quadratic (Kolesar's manyiv and pyfixest do the same with sparse matrices)."""

    codes: np.ndarray
    controls: Controls
    pinv: np.ndarray  # J x J: (Z' M_W Z)^+
    leverage: np.ndarray  # n: diagonal of H_{M_W Z}

    def project(self, values: np.ndarray) -> np.ndarray:
        """H_{M_W Z} values (n x k)."""
        y = as_matrix(values)
        totals = group_sums(self.controls.residualise(y), self.codes, self.pinv.shape[0])
        return self.controls.residualise((self.pinv @ totals)[self.codes])


def group_sums(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """G x k sums of the columns of `values` within each group."""
    matrix = values.reshape(values.shape[0], -1)
    return (
        np.column_stack(
            [
                np.bincount(codes, weights=matrix[:, k], minlength=n_groups)
                for k in range(matrix.shape[1])
            ]
        )
        if matrix.shape[1]
        else np.zeros((n_groups, 0))
    )


def instrument_projection(
    instrument_codes: np.ndarray, controls: Controls, rtol: float = 1e-9
) -> InstrumentProjection:
    """`InstrumentProjection` of the instrument groups given the controls. Directions of
    Z' M_W Z with an eigenvalue below `rtol` x the largest are dropped (the sum of a connected set
    of caseworkers' dummies, which the cell dummies span)."""
    codes = np.asarray(instrument_codes, dtype=np.int64)
    cells = controls.cells
    n_groups, n_cells = int(codes.max()) + 1, controls.n_cells
    basis = controls.covariate_basis  # n x p, orthogonal to the cell dummies
    cross = sparse.csr_matrix(
        (np.ones(codes.size), (cells, codes)), shape=(n_cells, n_groups)
    )  # clients per cell and group (duplicates summed)
    cell_sizes = np.asarray(cross.sum(axis=1)).ravel()
    shares = sparse.diags(1.0 / cell_sizes) @ cross  # cells x J: group shares within a cell
    totals = group_sums(basis, codes, n_groups)  # J x p: B' = Z'Q
    gram = (
        np.diag(np.bincount(codes, minlength=n_groups).astype(float))
        - (cross.T @ shares).toarray()
        - totals @ totals.T
    )
    values, vectors = np.linalg.eigh(gram)
    keep = values > rtol * max(values.max(), 1e-300)
    pinv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    by_cell = np.asarray(shares @ pinv)  # cells x J: P s_c
    weights = pinv @ totals  # J x p: P B'
    own = np.asarray(shares.multiply(by_cell).sum(axis=1)).ravel()  # s_c' P s_c
    shares_weights = np.asarray(shares @ weights)  # cells x p: s_c' P B'
    quadratic = totals.T @ weights  # p x p: B P B'
    leverage = (
        np.diag(pinv)[codes]
        - 2 * by_cell[cells, codes]
        - 2 * np.einsum("ij,ij->i", weights[codes], basis)
        + own[cells]
        + 2 * np.einsum("ij,ij->i", shares_weights[cells], basis)
        + np.einsum("ij,jk,ik->i", basis, quadratic, basis)
    )
    return InstrumentProjection(codes, controls, pinv, leverage)


def controls_leverage(controls: Controls) -> np.ndarray:
    """Diagonal of H_W: 1 / (cell size) plus the leverage of the within-cell covariates."""
    sizes = np.bincount(controls.cells).astype(float)
    basis = controls.covariate_basis
    return 1.0 / sizes[controls.cells] + np.einsum("ij,ij->i", basis, basis)


def loo_fits(
    values: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out fitted values of each column of `values` on [Z, W] and on W alone, with the
    leverage check (`instrument_projection`: no dense design)."""
    y = as_matrix(values)
    projection = instrument_projection(instrument_codes, controls)
    lev_w = controls_leverage(controls)
    lev_zw = lev_w + projection.leverage
    if np.any(lev_zw > LEVERAGE_LIMIT):
        bad = int(np.sum(lev_zw > LEVERAGE_LIMIT))
        raise LeverageError(leverage_one_message(bad, len(lev_zw)))
    fit_w = y - controls.residualise(y)
    fit_zw = fit_w + projection.project(y)
    loo_w = (fit_w - lev_w[:, None] * y) / (1 - lev_w[:, None])
    loo_zw = (fit_zw - lev_zw[:, None] * y) / (1 - lev_zw[:, None])
    return loo_zw, loo_w


def jackknife_designs(instrument_codes: np.ndarray, controls: Controls) -> tuple[np.ndarray, ...]:
    """The two first-stage designs: [instrument dummies, W] and W, dense (the reference that
    `loo_fits` is tested against; quadratic in the clients)."""
    controls_matrix = controls.dense_matrix()
    dummies = indicator_matrix(instrument_codes).toarray()
    return np.hstack([dummies, controls_matrix]), controls_matrix


def ujive_instrument(
    endogenous: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> np.ndarray:
    """Xhat_UJIVE: leave-one-out fit on [Z, W] minus leave-one-out fit on W."""
    loo_zw, loo_w = loo_fits(endogenous, instrument_codes, controls)
    return loo_zw - loo_w


def jive1_instrument(
    endogenous: np.ndarray, instrument_codes: np.ndarray, controls: Controls
) -> np.ndarray:
    """Xhat_JIVE1: leave-one-out fit on [Z, W], with the controls partialled out of it."""
    loo_zw, _ = loo_fits(endogenous, instrument_codes, controls)
    return controls.residualise(loo_zw)


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
