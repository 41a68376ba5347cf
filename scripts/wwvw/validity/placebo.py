"""Placebo outcomes: IV 'effects' of the referral on things fixed before the intake.

A caseworker cannot change a client's past, so with random assignment and valid instruments the
IV estimates on a pre-intake outcome must be zero, while the naive (OLS) comparison need not be:
Matching clients have worked more in the past because caseworkers select on employability.

The cohort holds no work record of the 12 months before the benefit start; the finest pre-intake
work measure it has is `work_months`, the months in paid work in the work-history window (48
months) before the anchor date. The placebo outcomes derived from it are `worked_before` (any paid
work in that window; from `work_history` != none where `work_months` is absent) and `work_months`
itself. `debts` and `chronic_any` (registered defaulter on 31 December before; any chronic
condition in the year before) are also available. The characteristic a placebo is derived from is
left out of the controls, since it is the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from wwvw.estimation.linear import ols, two_stage_least_squares
from wwvw.estimation.matrices import TREATMENTS
from wwvw.estimation.variance import sandwich_vcov

from .inference import normal_inference
from .jackknife import fast_ujive
from .samples import Sample, controls_for

PLACEBO_SCHEMA = {
    "outcome": pl.String,
    "definition": pl.String,
    "treatment": pl.String,
    "estimator": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "mean_outcome": pl.Float64,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
}
ESTIMATORS = ("ols", "2sls", "ujive")


@dataclass(frozen=True)
class Placebo:
    definition: str
    excluded: tuple[str, ...]  # characteristics left out of the controls


PLACEBOS = {
    "worked_before": Placebo(
        "any paid work in the work-history window (48 months) before the anchor date",
        ("work_history",),
    ),
    "work_months": Placebo(
        "months in paid work in the work-history window (48 months) before the anchor date",
        ("work_history",),
    ),
    "debts": Placebo(
        "registered health-insurance premium defaulter on 31 December before", ("debts",)
    ),
    "chronic_any": Placebo("at least one chronic condition in the year before", ("chronic",)),
}


def placebo_values(frame: pl.DataFrame, name: str) -> np.ndarray | None:
    """The placebo outcome as floats, or None if the cohort lacks what it is derived from."""
    columns = frame.columns
    if name == "worked_before":
        if "work_months" in columns:
            return (frame["work_months"].cast(pl.Float64) > 0).cast(pl.Float64).to_numpy()
        if "work_history" in columns:
            return (frame["work_history"] != "none").cast(pl.Float64).to_numpy()
        return None
    if name == "work_months":
        return (
            frame["work_months"].cast(pl.Float64).to_numpy() if "work_months" in columns else None
        )
    if name == "debts":
        return frame["debts"].cast(pl.Float64).to_numpy() if "debts" in columns else None
    if name == "chronic_any":
        return (
            (frame["chronic"] != "0").cast(pl.Float64).to_numpy() if "chronic" in columns else None
        )
    raise ValueError(f"unknown placebo outcome {name!r}; expected one of {sorted(PLACEBOS)}")


def placebo_fits(sample: Sample, values: np.ndarray, excluded: Sequence[str], estimators) -> dict:
    controls = controls_for(sample, exclude=excluded)
    y = controls.residualise(values)
    x = controls.residualise(sample.treatments)
    fits = {}
    for estimator in estimators:
        if estimator == "ols":
            fits[estimator] = ols(y, x, TREATMENTS, controls.n_absorbed)
        elif estimator == "2sls":
            z = controls.residualise(sample.propensities)
            fits[estimator] = two_stage_least_squares(y, x, z, TREATMENTS, controls.n_absorbed)
        elif estimator == "ujive":
            fits[estimator] = fast_ujive(
                values, sample.treatments, sample.caseworkers, controls, TREATMENTS
            )
        else:
            raise ValueError(f"unknown estimator {estimator!r}; expected one of {ESTIMATORS}")
    return fits


def placebo_table(
    sample: Sample, outcomes: Sequence[str], estimators: Sequence[str] = ESTIMATORS
) -> tuple[pl.DataFrame, list[str]]:
    """placebo.csv rows, and the placebo outcomes skipped because the cohort lacks their data."""
    rows, skipped = [], []
    for name in outcomes:
        values = placebo_values(sample.frame, name)
        if values is None:
            skipped.append(name)
            continue
        placebo = PLACEBOS[name]
        for estimator, fit in placebo_fits(sample, values, placebo.excluded, estimators).items():
            se = np.sqrt(np.diag(sandwich_vcov(fit, sample.caseworkers)))
            for k, treatment in enumerate(TREATMENTS):
                coef = float(fit.coef[k])
                rows.append(
                    {
                        "outcome": name,
                        "definition": placebo.definition,
                        "treatment": treatment,
                        "estimator": estimator,
                        "coef": coef,
                        "se": float(se[k]),
                        **normal_inference(coef, float(se[k])),
                        "mean_outcome": float(values.mean()),
                        "n": sample.n,
                        "n_clusters": sample.n_clusters,
                    }
                )
    return pl.DataFrame(rows, schema=PLACEBO_SCHEMA), skipped
