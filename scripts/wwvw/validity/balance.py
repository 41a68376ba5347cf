"""Is assignment to caseworkers as good as random within assignment cells?

Balance table (Dobbie, Goldin and Yang 2018, AER, Table 2; Bhuller, Dahl, Loken and Mogstad 2020,
JPE, Table 2): every client characteristic, and an index of the outcome predicted from all of them,
regressed on the caseworker propensities with cell fixed effects and caseworker-clustered errors
(`instrument_balance`); and, next to it, how strongly the same characteristics jointly predict the
treatments themselves versus the propensities (`joint_prediction`: the treatments should be
strongly predicted, the propensities not at all). Joint tests are cluster-robust Wald tests
referred to F(q, G - 1); with 18 restrictions and 60 caseworkers these over-reject (about 30% at
the 5% level on the planted design), so the permutation p-value, exact under random assignment,
is added to the joint rows the permutation test also computes (`permutation_pvalue`).

Permutation test: under random assignment within cells, caseworker labels are exchangeable among
the clients of a cell, so re-drawing them within cells (keeping every caseworker's caseload per
cell) gives the exact null distribution of any statistic (Fisher randomisation inference; e.g.
Imbens and Rubin 2015, ch. 5). Statistics: the F of caseworker dummies on the predicted outcome
within cells, the joint F of the covariates in the regression of each propensity (recomputed from
the permuted labels), and the joint F of both propensities on the predicted outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from wwvw.estimation import distributions as dist
from wwvw.estimation.fixed_effects import Controls
from wwvw.estimation.instruments import propensity_column
from wwvw.estimation.linear import ols
from wwvw.estimation.matrices import TREATMENTS
from wwvw.estimation.variance import MomentFit, sandwich_vcov

from .inference import coefficient_rows, wald_test
from .samples import (
    CHARACTERISTICS,
    Sample,
    cell_controls,
    level_values,
    ordered_levels,
    propensities_for,
    propensity_targets,
    regress,
)

INSTRUMENT_NAMES = tuple(propensity_column(t) for t in TREATMENTS)
PREDICTED = "predicted_outcome"

BALANCE_SCHEMA = {
    "section": pl.String,
    "dependent": pl.String,
    "regressor": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "statistic": pl.Float64,
    "df": pl.Int64,
    "mean_dependent": pl.Float64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}
PERMUTATION_SCHEMA = {
    "statistic": pl.String,
    "description": pl.String,
    "observed": pl.Float64,
    "analytic_pvalue": pl.Float64,
    "permutation_pvalue": pl.Float64,
    "draws": pl.Int64,
    "permuted_mean": pl.Float64,
    "permuted_p95": pl.Float64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}


def predicted_outcome(sample: Sample) -> np.ndarray:
    """The outcome predicted from all covariates (OLS with cell fixed effects), at the mean."""
    x = sample.covariates
    fit = regress(sample.outcome, x, cell_controls(sample), [str(k) for k in range(x.shape[1])])
    return sample.outcome.mean() + (x - x.mean(axis=0)) @ fit.coef


def balance_covariates(sample: Sample) -> dict[str, np.ndarray]:
    """Every level of every characteristic as a dummy, age in years, and the predicted outcome."""
    out = {}
    for characteristic in CHARACTERISTICS:
        if characteristic not in sample.frame.columns:
            continue
        values = level_values(sample.frame, characteristic)
        levels = ordered_levels(characteristic, np.unique(values).tolist())
        if set(levels) <= {"true", "false"}:
            out[characteristic] = (values == "true").astype(float)
            continue
        for level in levels:
            out[f"{characteristic}={level}"] = (values == level).astype(float)
    if "age" in sample.frame.columns:
        out["age"] = sample.frame["age"].cast(pl.Float64).to_numpy()
    out[PREDICTED] = predicted_outcome(sample)
    return out


def instrument_balance(sample: Sample) -> list[dict]:
    """Each covariate on both propensities within cells: coefficients and the joint F test."""
    controls = cell_controls(sample)
    g = sample.n_clusters
    rows = []
    for name, values in balance_covariates(sample).items():
        fit = regress(values, sample.propensities, controls, INSTRUMENT_NAMES)
        vcov = sandwich_vcov(fit, sample.caseworkers)
        fixed = {"section": "instrument_balance", "dependent": name}
        fixed["mean_dependent"] = float(values.mean())
        rows += coefficient_rows(fit, vcov, INSTRUMENT_NAMES, g, **fixed)
        test = wald_test(fit.coef, vcov, np.eye(fit.coef.size), g)
        rows.append(joint_row(fixed, test, fit.n, g))
    return rows


def joint_prediction(sample: Sample) -> list[dict]:
    """All covariates jointly predicting each treatment and each propensity, within cells."""
    controls = cell_controls(sample)
    g = sample.n_clusters
    dependents = {t: sample.treatments[:, k] for k, t in enumerate(TREATMENTS)}
    dependents |= {z: sample.propensities[:, k] for k, z in enumerate(INSTRUMENT_NAMES)}
    rows = []
    for name, values in dependents.items():
        fit = regress(values, sample.covariates, controls, sample.covariate_names)
        vcov = sandwich_vcov(fit, sample.caseworkers)
        fixed = {"section": "joint_prediction", "dependent": name}
        fixed["mean_dependent"] = float(values.mean())
        rows += coefficient_rows(fit, vcov, sample.covariate_names, g, **fixed)
        test = wald_test(fit.coef, vcov, np.eye(fit.coef.size), g)
        rows.append(joint_row(fixed, test, fit.n, g))
    return rows


def joint_row(fixed: dict, test: dict, n: int, n_clusters: int) -> dict:
    return fixed | {
        "regressor": "joint",
        "statistic": test["f_statistic"],
        "df": test["df"],
        "pvalue": test["pvalue_f"],
        "n": n,
        "n_clusters": n_clusters,
    }


def balance_table(sample: Sample) -> pl.DataFrame:
    """balance.csv: the instrument_balance and joint_prediction sections."""
    rows = instrument_balance(sample) + joint_prediction(sample)
    return pl.DataFrame(rows, schema=BALANCE_SCHEMA)


# ----------------------------------------------------------------------------- permutation
def permute_within_cells(
    cells: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Labels shuffled among the rows of each cell (every label keeps its count per cell)."""
    base = np.argsort(cells, kind="stable")
    shuffled = np.argsort(cells + rng.random(cells.size), kind="stable")
    out = np.empty_like(labels)
    out[base] = labels[shuffled]
    return out


@dataclass(frozen=True)
class Unchanged:
    """What within-cell permutations of the labels leave unchanged, computed once: the cell
    controls, the covariates and the predicted outcome net of the cells, and the eigen-pairs of
    C'MC (which depends on the labels only through each caseworker's count per cell)."""

    controls: Controls
    covariates_within: np.ndarray
    index_within: np.ndarray
    gram_values: np.ndarray
    gram_vectors: np.ndarray
    targets: np.ndarray  # what the propensities average, per client

    @classmethod
    def of(cls, sample: Sample, index: np.ndarray, split_seed: int | None = None) -> Unchanged:
        controls = cell_controls(sample)
        covariates = controls.residualise(sample.covariates)
        values, vectors = np.linalg.eigh(caseworker_gram(sample.cells, sample.caseworkers))
        keep = values > 1e-9 * values.max()
        return cls(
            controls,
            covariates,
            controls.residualise(index),
            values[keep],
            vectors[:, keep],
            propensity_targets(sample, split_seed=split_seed),
        )


def caseworker_gram(cells: np.ndarray, caseworkers: np.ndarray) -> np.ndarray:
    """C'MC = diag(n_j) - N' diag(1/n_c) N, N the cell x caseworker counts."""
    n_cells, n_workers = int(cells.max()) + 1, int(caseworkers.max()) + 1
    counts = np.zeros((n_cells, n_workers))
    np.add.at(counts, (cells, caseworkers), 1.0)
    sizes = counts.sum(axis=1)
    return np.diag(counts.sum(axis=0)) - counts.T @ (counts / sizes[:, None])


def caseworker_f(
    sample: Sample, caseworkers: np.ndarray, unchanged: Unchanged
) -> tuple[float, int, int]:
    """F statistic (and its degrees of freedom) of caseworker dummies on the predicted outcome
    within cells.

    The explained sum of squares of the caseworker dummies C after the cell dummies is
    s' (C'M C)^+ s with s = C' M v, so nothing of size n x J is formed (fast enough for
    thousands of permutations).
    """
    within = unchanged.index_within
    sums = np.bincount(caseworkers, weights=within, minlength=unchanged.gram_vectors.shape[0])
    projected = unchanged.gram_vectors.T @ sums
    explained = float(projected @ (projected / unchanged.gram_values))
    df1 = unchanged.gram_values.size
    df2 = sample.n - unchanged.controls.n_cells - df1
    return (explained / df1) / ((float(within @ within) - explained) / df2), df1, df2


def covariates_f(
    propensity: np.ndarray, sample: Sample, caseworkers: np.ndarray, unchanged: Unchanged
) -> float:
    """Joint clustered F of the covariates in the regression of a propensity, within cells."""
    controls = unchanged.controls
    fit = ols(
        controls.residualise(propensity),
        unchanged.covariates_within,
        sample.covariate_names,
        controls.n_absorbed,
    )
    return clustered_f(fit, caseworkers)


def instruments_f(
    propensities: np.ndarray, sample: Sample, caseworkers: np.ndarray, unchanged: Unchanged
) -> float:
    """Joint clustered F of both propensities in the regression of the predicted outcome."""
    controls = unchanged.controls
    fit = ols(
        unchanged.index_within,
        controls.residualise(propensities),
        INSTRUMENT_NAMES,
        controls.n_absorbed,
    )
    return clustered_f(fit, caseworkers)


def clustered_f(fit: MomentFit, caseworkers: np.ndarray) -> float:
    """Joint F (Wald / q) of all coefficients of a fit, clustered by the given labels."""
    vcov = sandwich_vcov(fit, caseworkers)
    return wald_test(fit.coef, vcov, np.eye(fit.coef.size))["statistic"] / fit.coef.size


def permutation_statistics(
    sample: Sample, caseworkers: np.ndarray, unchanged: Unchanged, split_seed: int | None = None
) -> dict[str, float]:
    """The permutation statistics for one labelling of the clients (split_seed: that of
    `unchanged.targets`; default the sample's)."""
    z = propensities_for(sample, caseworkers, split_seed, targets=unchanged.targets)
    out = {"f_caseworker_predicted_outcome": caseworker_f(sample, caseworkers, unchanged)[0]}
    for k, name in enumerate(INSTRUMENT_NAMES):
        out[f"f_covariates_{name}"] = covariates_f(z[:, k], sample, caseworkers, unchanged)
    out["f_instruments_predicted_outcome"] = instruments_f(z, sample, caseworkers, unchanged)
    return out


DESCRIPTIONS = {
    "f_caseworker_predicted_outcome": "F of caseworker dummies on the predicted outcome, within cells",
    "f_covariates_propensity_matching": "joint F of the covariates on the Matching propensity",
    "f_covariates_propensity_activering": "joint F of the covariates on the Activering propensity",
    "f_instruments_predicted_outcome": "joint F of both propensities on the predicted outcome",
}


def permutation_test(
    sample: Sample, draws: int, seed: int, split_seed: int | None = None
) -> pl.DataFrame:
    """permutation.csv: observed statistics against `draws` within-cell permutations of labels
    (split_seed: the halves of a split-sample instrument; default the sample's)."""
    unchanged = Unchanged.of(sample, predicted_outcome(sample), split_seed)
    observed = permutation_statistics(sample, sample.caseworkers, unchanged, split_seed)
    rng = np.random.default_rng(seed)
    permuted = {name: np.empty(draws) for name in observed}
    for b in range(draws):
        labels = permute_within_cells(sample.cells, sample.caseworkers, rng)
        for name, value in permutation_statistics(sample, labels, unchanged, split_seed).items():
            permuted[name][b] = value
    analytic = analytic_pvalues(sample, unchanged, observed)
    rows = []
    for name, value in observed.items():
        draws_of = permuted[name]
        rows.append(
            {
                "statistic": name,
                "description": DESCRIPTIONS[name],
                "observed": value,
                "analytic_pvalue": analytic[name],
                "permutation_pvalue": (1 + np.sum(draws_of >= value)) / (1 + draws),
                "draws": draws,
                "permuted_mean": float(draws_of.mean()) if draws else np.nan,
                "permuted_p95": float(np.quantile(draws_of, 0.95)) if draws else np.nan,
                "n": sample.n,
                "n_clusters": sample.n_clusters,
            }
        )
    return pl.DataFrame(rows, schema=PERMUTATION_SCHEMA)


def analytic_pvalues(sample: Sample, unchanged: Unchanged, observed: dict) -> dict[str, float]:
    """Textbook p-values of the same statistics (F distributions), for comparison."""
    _, df1, df2 = caseworker_f(sample, sample.caseworkers, unchanged)
    g = sample.n_clusters
    q = sample.covariates.shape[1]
    out = {
        "f_caseworker_predicted_outcome": dist.f_sf(
            observed["f_caseworker_predicted_outcome"], df1, df2
        )
    }
    for name in INSTRUMENT_NAMES:
        out[f"f_covariates_{name}"] = dist.f_sf(observed[f"f_covariates_{name}"], q, g - 1)
    out["f_instruments_predicted_outcome"] = dist.f_sf(
        observed["f_instruments_predicted_outcome"], len(INSTRUMENT_NAMES), g - 1
    )
    return {k: float(v) for k, v in out.items()}


def with_permutation_pvalues(balance: pl.DataFrame, permutation: pl.DataFrame) -> pl.DataFrame:
    """Add the permutation p-value to the joint rows that the permutation test also computes."""
    statistic = {
        ("joint_prediction", "propensity_matching"): "f_covariates_propensity_matching",
        ("joint_prediction", "propensity_activering"): "f_covariates_propensity_activering",
        ("instrument_balance", "predicted_outcome"): "f_instruments_predicted_outcome",
    }
    keys = pl.DataFrame(
        [{"section": s, "dependent": d, "statistic_name": n} for (s, d), n in statistic.items()]
    ).with_columns(regressor=pl.lit("joint"))
    pvalues = permutation.select(
        pl.col("statistic").alias("statistic_name"), pl.col("permutation_pvalue")
    )
    return balance.join(
        keys.join(pvalues, on="statistic_name").drop("statistic_name"),
        on=["section", "dependent", "regressor"],
        how="left",
        maintain_order="left",
    )
