"""Partialling out the assignment-cell fixed effects and covariates (Frisch-Waugh-Lovell).

With a single set of fixed effects the within transformation is exact: subtract the cell mean.
Covariates are then residualised on their own within-cell deviations. Coefficients on the
remaining regressors, their residuals and the 'meat' of every sandwich variance are identical to
those of the regression with explicit cell dummies and covariates (FWL theorem; e.g. Davidson and
MacKinnon 2004, sec. 2.4); only the degrees of freedom differ, which `Controls.n_absorbed` keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from .matrices import indicator_matrix


def group_means(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """G x k matrix of the mean of each column of `values` within each group.

    A bincount per column: several times faster than a sparse indicator product for the few
    dozen columns used here (building the sparse matrix dominated the bootstrap's profile)."""
    values = values.reshape(values.shape[0], -1)
    counts = np.bincount(codes).astype(float)
    sums = np.empty((counts.size, values.shape[1]))
    for column in range(values.shape[1]):
        sums[:, column] = np.bincount(codes, weights=values[:, column], minlength=counts.size)
    return sums / counts[:, None]


def demean_within_groups(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """values minus their group mean (the within transformation); keeps the input's shape."""
    matrix = values.reshape(values.shape[0], -1)
    out = matrix - group_means(matrix, codes)[codes]
    return out.reshape(values.shape)


def orthonormal_basis(matrix: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis of the column space of `matrix` (rank-revealing pivoted QR).

    Collinear columns (e.g. caseworker dummies next to cell dummies) are dropped; the projection
    H = Q Q' onto the column space is unique whatever columns are dropped.
    """
    if matrix.shape[1] == 0:
        return np.empty((matrix.shape[0], 0))
    q, r, _ = linalg.qr(matrix, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int(np.sum(diagonal > rtol * diagonal[0])) if diagonal.size else 0
    return q[:, :rank]


@dataclass(frozen=True)
class Controls:
    """Cell fixed effects and (optionally) covariates, ready to be partialled out."""

    cells: np.ndarray  # integer codes 0..C-1
    covariates: np.ndarray  # n x m raw covariates (m may be 0)
    covariate_basis: np.ndarray  # orthonormal basis of the within-cell covariates

    @property
    def n_cells(self) -> int:
        return int(self.cells.max()) + 1

    @property
    def n_absorbed(self) -> int:
        """Parameters used by the controls: one per cell plus the rank of the covariates."""
        return self.n_cells + self.covariate_basis.shape[1]

    def residualise(self, values: np.ndarray) -> np.ndarray:
        """M_W values: residuals from regressing each column on cell dummies and covariates."""
        within = demean_within_groups(np.asarray(values, dtype=float), self.cells)
        matrix = within.reshape(within.shape[0], -1)
        basis = self.covariate_basis
        out = matrix - basis @ (basis.T @ matrix)
        return out.reshape(within.shape)

    def dense_matrix(self) -> np.ndarray:
        """W = [cell dummies, covariates] as a dense matrix (for hat-matrix diagonals)."""
        dummies = indicator_matrix(self.cells, self.n_cells).toarray()
        return np.hstack([dummies, self.covariates])


def make_controls(cells: np.ndarray, covariates: np.ndarray | None = None) -> Controls:
    """Controls for cell codes and an optional n x m covariate matrix."""
    cells = np.asarray(cells, dtype=np.int64)
    covariates = np.empty((cells.size, 0)) if covariates is None else np.asarray(covariates, float)
    basis = orthonormal_basis(demean_within_groups(covariates, cells))
    return Controls(cells=cells, covariates=covariates, covariate_basis=basis)
