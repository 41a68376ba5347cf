"""From a cohort frame to the numeric arrays the estimators work on.

The cohort frame has one row per client (schema of results/<snapshot>/cohort/cohort.parquet):
person_id, caseworker, location, intake_period, cell, department, outcome and the covariates
below. Treatments are referral dummies against the reference department Prematching; covariates
enter as dummies for every level but a reference level.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse

from wwvw.cohort.registry import BOOLEAN, CATEGORICAL

DEPARTMENTS = ("matching", "prematching", "activering")
REFERENCE_DEPARTMENT = "prematching"
TREATMENTS = ("matching", "activering")

# categorical covariates and the level left out of the dummies (the registry's reference)
CATEGORICAL_COVARIATES = {c.name: c.reference for c in CATEGORICAL}
BOOLEAN_COVARIATES = tuple(c.name for c in BOOLEAN)
MIN_LEVEL_COUNT = 2


def group_codes(values: pl.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..G-1 for the distinct values, and the sorted distinct values."""
    array = values.to_numpy() if isinstance(values, pl.Series) else np.asarray(values)
    levels, codes = np.unique(array, return_inverse=True)
    return codes.astype(np.int64), levels


def indicator_matrix(codes: np.ndarray, n_groups: int | None = None) -> sparse.csr_matrix:
    """Sparse n x G matrix of group dummies (one 1 per row)."""
    n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
    rows = np.arange(codes.size)
    return sparse.csr_matrix((np.ones(codes.size), (rows, codes)), shape=(codes.size, n_groups))


def department_dummies(
    cohort: pl.DataFrame, departments: tuple[str, ...] | list[str]
) -> np.ndarray:
    """n x len(departments) float matrix, column k = 1{department == departments[k]}."""
    unknown = set(cohort["department"].unique().to_list()) - set(DEPARTMENTS)
    if unknown:
        raise ValueError(f"unknown departments in cohort: {sorted(unknown)}")
    dept = cohort["department"].to_numpy()
    return np.column_stack([(dept == d).astype(float) for d in departments])


def outcome_vector(cohort: pl.DataFrame) -> np.ndarray:
    """The outcome (paid work >= 3 months within 36 months) as a float vector."""
    return cohort["outcome"].cast(pl.Float64).to_numpy()


def covariate_matrix(cohort: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Covariate dummies (reference levels dropped) and their names.

    Names are `variable=level` for categorical covariates and the variable name for booleans. A
    dummy that is 1 (or 0) for fewer than MIN_LEVEL_COUNT clients is dropped, i.e. the level is
    merged into the reference: a dummy isolating one client gives that client leverage 1, so its
    leave-one-out fitted value (JIVE, UJIVE) would be undefined.
    """
    columns, names = [], []
    for variable, reference in CATEGORICAL_COVARIATES.items():
        values = cohort[variable].cast(pl.String).to_numpy()
        for level in sorted(set(values) - {reference}):
            columns.append((values == level).astype(float))
            names.append(f"{variable}={level}")
    for variable in BOOLEAN_COVARIATES:
        columns.append(cohort[variable].cast(pl.Float64).to_numpy())
        names.append(variable)
    matrix = np.column_stack(columns) if columns else np.empty((cohort.height, 0))
    ones = matrix.sum(axis=0)
    keep = (ones >= MIN_LEVEL_COUNT) & (ones <= cohort.height - MIN_LEVEL_COUNT)
    return matrix[:, keep], [n for n, k in zip(names, keep, strict=True) if k]
