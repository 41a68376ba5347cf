"""Checks of 2SLS with two treatments (Matching, Activering; Prematching the reference).

Bhuller and Sigstad (2024, "2SLS with multiple treatments", J. Econometrics) show that the 2SLS
coefficient of each treatment is a positively weighted sum of individual effects of that
treatment if and only if, with Xhat the predicted treatments (the linear projection of the
treatment dummies on the instruments and controls),

- average conditional monotonicity: conditional on the other predicted treatments, a higher
  predicted treatment k makes every kind of client weakly more likely to take treatment k, and
- no cross effects: conditional on the other predicted treatments, a higher predicted treatment k
  does not shift any kind of client into or out of another treatment l.

Their testable implications, implemented as far as the data allow:

- cross_first_stage: each treatment dummy (and the reference) regressed on both propensities:
  does each department's propensity move only its own department (and the reference)? The
  off-diagonal coefficients are reported relative to the diagonal one of the same instrument.
- cross_first_stage_corrected: the same matrix free of the errors-in-variables bias of estimated
  propensities. A caseworker's leave-one-out propensities for the two departments are means over
  the same few clients, so their sampling errors are negatively correlated (a client referred to
  one department is not referred to the other); conditional on a noisy Matching propensity, a
  high Activering propensity then signals that the Matching one was underestimated, which shows
  up as a spurious positive cross coefficient even when each caseworker's leniency moves only its
  own department. Here each caseworker's other clients are split at random into two halves: the
  propensities from the client's own half are the regressors, instrumented by those from the
  other half (independent sampling errors; Angrist and Krueger 1995's split-sample IV). With the
  departments' own propensities as instruments this matrix is the identity by construction
  (E[D_d | caseworker] is the caseworker's propensity for d): a departure from it signals a
  problem with the instruments, not a cross effect; cross effects show only in subgroups.
- propensity_correlation (summary): the correlation across caseworkers of the Matching and the
  Activering propensity, corrected for their sampling errors with the split halves
  (cov(own_m, other_a) / sqrt(cov(own_m, other_m) cov(own_a, other_a))): do caseworkers who
  favour Matching also avoid Activering, so that the two instruments move clients jointly?
- predicted_treatment: within every subgroup of clients (Table 1 characteristics), each treatment
  regressed on both predicted treatments Xhat (from the whole-cohort first stages). In the whole
  cohort this regression returns the identity matrix by construction; within subgroups the
  diagonal must stay positive (conditional monotonicity for that kind of client) and the
  off-diagonal must stay zero (no cross effects). Per characteristic, a joint Wald test that all
  its levels' off-diagonal coefficients are zero, with the stacked caseworker-clustered
  covariance across levels (`summary` rows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from wwvw.estimation.instruments import (
    leave_one_out_mean,
    other_half_mean,
    propensity_column,
    random_halves,
    referral_targets,
)
from wwvw.estimation.linear import two_stage_least_squares
from wwvw.estimation.matrices import DEPARTMENTS, TREATMENTS, group_codes
from wwvw.estimation.variance import sandwich_vcov

from .inference import coefficient_rows, joint_vcov, wald_test
from .samples import Sample, controls_for, regress, subgroups

INSTRUMENTS = tuple(propensity_column(t) for t in TREATMENTS)
PREDICTED = tuple(f"predicted_{t}" for t in TREATMENTS)

MULTI_SCHEMA = {
    "section": pl.String,
    "characteristic": pl.String,
    "level": pl.String,
    "treatment": pl.String,
    "regressor": pl.String,
    "kind": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "ratio_to_diagonal": pl.Float64,
    "statistic": pl.Float64,
    "df": pl.Int64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}


def first_stage_matrix(sample: Sample) -> np.ndarray:
    """2 x 2 first-stage coefficients: row = treatment, column = propensity (cohort-wide)."""
    controls = controls_for(sample)
    return np.vstack(
        [
            regress(sample.treatments[:, k], sample.propensities, controls, INSTRUMENTS).coef
            for k in range(len(TREATMENTS))
        ]
    )


def predicted_treatments(sample: Sample) -> np.ndarray:
    """Xhat = Z Pi': the treatments predicted by both propensities (n x 2)."""
    return sample.propensities @ first_stage_matrix(sample).T


def split_half_propensities(sample: Sample, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(own-half, other-half) propensities of both treatments: each client's caseworker's other
    clients in the client's random half (leave-one-out) and in the other half. Residualised
    targets are net of the cell means within each half, so the other-half propensity depends on
    the other half's referrals only and the own-half one on the own half's only."""
    residualised = not sample.instruments.endswith("raw")
    half = random_halves(sample.n, seed)
    targets = referral_targets(sample.frame, TREATMENTS, residualised, half)
    within, _ = group_codes(sample.caseworkers * 2 + half)
    own = np.column_stack([leave_one_out_mean(t, within) for t in targets.T])
    other = np.column_stack([other_half_mean(t, sample.caseworkers, half) for t in targets.T])
    return own, other


def cross_first_stages(sample: Sample, corrected: bool = False, seed: int = 0) -> list[dict]:
    """Every department dummy on both propensities; off-diagonals relative to the diagonal.

    corrected: split-half IV (own-half propensities instrumented by other-half ones)."""
    if corrected:
        own, other = split_half_propensities(sample, seed)
        usable = np.all(np.isfinite(own) & np.isfinite(other), axis=1)
        controls = controls_for(sample, usable)
        x, z = controls.residualise(own[usable]), controls.residualise(other[usable])
        fits = {
            d: two_stage_least_squares(
                controls.residualise(sample.departments[usable, k]),
                x,
                z,
                INSTRUMENTS,
                controls.n_absorbed,
            )
            for k, d in enumerate(DEPARTMENTS)
        }
        clusters = sample.caseworkers[usable]
        section = "cross_first_stage_corrected"
    else:
        controls = controls_for(sample)
        fits = {
            d: regress(sample.departments[:, k], sample.propensities, controls, INSTRUMENTS)
            for k, d in enumerate(DEPARTMENTS)
        }
        clusters = sample.caseworkers
        section = "cross_first_stage"
    diagonal = {
        z: fits[t].coef[k] for k, (t, z) in enumerate(zip(TREATMENTS, INSTRUMENTS, strict=True))
    }
    n_clusters = int(np.unique(clusters).size)
    rows = []
    for department, fit in fits.items():
        vcov = sandwich_vcov(fit, clusters)
        for row in coefficient_rows(
            fit, vcov, INSTRUMENTS, n_clusters, section=section, treatment=department
        ):
            own = row["regressor"] == propensity_column(department)
            kind = (
                "diagonal"
                if own
                else ("reference" if department not in TREATMENTS else "off_diagonal")
            )
            rows.append(
                row
                | {
                    "characteristic": "all",
                    "level": "all",
                    "kind": kind,
                    "ratio_to_diagonal": row["coef"] / diagonal[row["regressor"]],
                }
            )
    return rows


def predicted_treatment_checks(
    sample: Sample, characteristics: Sequence[str], min_size: int
) -> list[dict]:
    """Treatments on predicted treatments, in the cohort and within each subgroup."""
    xhat = predicted_treatments(sample)
    groups, _ = subgroups(sample, characteristics, min_size)
    rows = []
    by_characteristic: dict[str, list] = {}
    for group in [None, *groups]:
        mask = None if group is None else group.mask
        rows_in = slice(None) if mask is None else mask
        controls = controls_for(sample, mask)
        clusters = sample.caseworkers[rows_in]
        for k, treatment in enumerate(TREATMENTS):
            fit = regress(sample.treatments[rows_in, k], xhat[rows_in], controls, PREDICTED)
            vcov = sandwich_vcov(fit, clusters)
            fixed = {
                "section": "predicted_treatment",
                "characteristic": "all" if group is None else group.characteristic,
                "level": "all" if group is None else group.level,
                "treatment": treatment,
            }
            n_clusters = int(np.unique(clusters).size)
            for row in coefficient_rows(fit, vcov, PREDICTED, n_clusters, **fixed):
                diagonal = row["regressor"] == f"predicted_{treatment}"
                rows.append(row | {"kind": "diagonal" if diagonal else "off_diagonal"})
            if group is not None:
                by_characteristic.setdefault(group.characteristic, []).append((fit, mask, k))
    for characteristic, fits in by_characteristic.items():
        rows.append(no_cross_effects_test(sample, characteristic, fits))
    return rows


def no_cross_effects_test(sample: Sample, characteristic: str, fits: list) -> dict:
    """Joint Wald test: every off-diagonal coefficient of every level of a characteristic is 0."""
    vcov = joint_vcov([f for f, _, _ in fits], [m for _, m, _ in fits], sample.caseworkers)
    coef = np.concatenate([f.coef for f, _, _ in fits])
    picks = []
    start = 0
    for fit, _, k in fits:
        picks += [start + j for j in range(fit.coef.size) if j != k]
        start += fit.coef.size
    restrictions = np.eye(coef.size)[picks]
    test = wald_test(coef, vcov, restrictions, sample.n_clusters)
    return {
        "section": "summary",
        "characteristic": characteristic,
        "level": "all_levels",
        "treatment": "both",
        "regressor": "off_diagonal",
        "kind": "joint_no_cross_effects",
        "statistic": test["statistic"],
        "df": test["df"],
        "pvalue": test["pvalue_chi2"],
        "n": sample.n,
        "n_clusters": sample.n_clusters,
    }


def propensity_correlation(sample: Sample, seed: int) -> dict:
    """Error-corrected correlation of the two propensities across clients' caseworkers."""
    own, other = split_half_propensities(sample, seed)
    usable = np.all(np.isfinite(own) & np.isfinite(other), axis=1)
    controls = controls_for(sample, usable)
    a, b = controls.residualise(own[usable]), controls.residualise(other[usable])

    def cov(x, y):
        return float(np.mean(x * y))

    signal = [cov(a[:, k], b[:, k]) for k in range(2)]
    cross = (cov(a[:, 0], b[:, 1]) + cov(a[:, 1], b[:, 0])) / 2
    value = cross / np.sqrt(signal[0] * signal[1]) if min(signal) > 0 else np.nan
    return {
        "section": "summary",
        "characteristic": "all",
        "level": "all",
        "treatment": "both",
        "regressor": "propensities",
        "kind": "propensity_correlation",
        "statistic": value,
        "n": int(usable.sum()),
        "n_clusters": int(np.unique(sample.caseworkers[usable]).size),
    }


def multi_treatment_table(
    sample: Sample, characteristics: Sequence[str], min_size: int, seed: int = 0
) -> pl.DataFrame:
    """multi_treatment.csv: cross first stages (plain and corrected for the errors in the
    estimated propensities), predicted-treatment checks by subgroup, joint no-cross-effects tests."""
    rows = cross_first_stages(sample) + cross_first_stages(sample, corrected=True, seed=seed)
    rows += predicted_treatment_checks(sample, characteristics, min_size)
    rows.append(propensity_correlation(sample, seed))
    return pl.DataFrame(rows, schema=MULTI_SCHEMA)
