"""Monte Carlo validation: bias, RMSE and coverage of every estimator and interval of the design.

Each replication draws a cohort from the synthetic generator's own data-generating process
(`wwvw.estimation.simulate.simulate_cohort`, i.e. `wwvw.synthetic.design`) with its own seed and
estimates, as the pipeline does (cell fixed effects, covariates, caseworker propensities of the
headline kind; the headline interval is the robust one, the caseworker-clustered one is reported
beside it):

- the joint model (Matching and Activering against Prematching): OLS, 2SLS with the leave-one-out
  propensities, UJIVE and JIVE1 with caseworker dummies; Wald intervals with caseworker-clustered
  and heteroskedasticity-robust standard errors;
- the just-identified Matching-versus-rest model: 2SLS and UJIVE, the tF interval (Lee, McCrary,
  Moreira and Porter 2022) and the Anderson-Rubin set (clustered and robust).

The truth is the planted effect (`Design.effects`): the same for every client unless the design
plants heterogeneity, so LATE = ATE = the planted effect; in the Matching-versus-rest model it is
the Matching effect, because Activering and Prematching have the same potential outcomes.

Designs are data (config `monte_carlo.designs`): any `Design` field, plus `n_clients`,
`intake_quarters` (quarters over which intakes are spread; 1 puts every caseworker in one cell)
and `n_locations` (generated location names). For example 120 locations x 5 caseworkers, one
quarter and 4,800 clients is a small-cell design (5 caseworkers and 40 clients per cell, where the
leave-one-out propensity net of tiny cells leaks the client's own referral and 2SLS is biased);
small leniency spreads give a weak-instrument design.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from wwvw.estimation import weak_iv
from wwvw.estimation.linear import instrumented_fit, ols, two_stage_least_squares
from wwvw.estimation.matrices import TREATMENTS
from wwvw.estimation.simulate import simulate_cohort
from wwvw.estimation.specifications import Specification, prepare_sample
from wwvw.estimation.variance import MomentFit, sandwich_vcov
from wwvw.synthetic.design import Design

from .inference import NORMAL_95
from .jackknife import loo_fits
from .parallel import payload, run_parallel

DESIGN_FIELDS = {f.name for f in fields(Design)}
IQR_PER_SD = 1.349  # interquartile range of the normal distribution in standard deviations
DRAW_SCHEMA = {
    "design": pl.String,
    "replication": pl.Int64,
    "seed": pl.Int64,
    "model": pl.String,
    "estimator": pl.String,
    "interval": pl.String,
    "treatment": pl.String,
    "truth": pl.Float64,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "covered": pl.Boolean,
    "first_stage_f": pl.Float64,
    "seconds": pl.Float64,
}


@dataclass(frozen=True)
class MonteCarloDesign:
    """One design of the study: the data-generating process and the cohort size."""

    name: str
    design: Design
    n_clients: int = 5988
    intake_quarters: int | None = None

    @classmethod
    def from_mapping(cls, name: str, spec: Mapping) -> MonteCarloDesign:
        values = dict(spec)
        n_clients = int(values.pop("n_clients", 5988))
        quarters = values.pop("intake_quarters", None)
        n_locations = values.pop("n_locations", None)
        unknown = set(values) - DESIGN_FIELDS
        if unknown:
            raise ValueError(f"design {name!r}: unknown keys {sorted(unknown)}")
        if n_locations is not None:
            values["locations"] = tuple(f"Location {k + 1:03d}" for k in range(int(n_locations)))
        if "effects" in values:
            values["effects"] = {"prematching": 0.0, **values["effects"]}
        return cls(name, Design(**values), n_clients, quarters)

    def truth(self, treatment: str) -> float:
        return float(self.design.effects[treatment])


# ----------------------------------------------------------------------------- one replication
def wald_row(fit: MomentFit, k: int, clusters, **labels) -> dict:
    se = float(np.sqrt(sandwich_vcov(fit, clusters)[k, k]))
    coef = float(fit.coef[k])
    return labels | {
        "coef": coef,
        "se": se,
        "ci_low": coef - NORMAL_95 * se,
        "ci_high": coef + NORMAL_95 * se,
    }


def replicate(design: MonteCarloDesign, seed: int, spec: Mapping) -> list[dict]:
    """All estimates and intervals of one simulated cohort (rows without design/replication)."""
    started = time.perf_counter()
    cohort = simulate_cohort(seed, design.n_clients, design.design, design.intake_quarters)
    specification = Specification.from_mapping(
        {"name": "monte_carlo", "treatments": list(TREATMENTS)} | dict(spec)
    )
    sample = prepare_sample(cohort, specification)
    controls = sample.controls
    y, x, z = sample.partialled["y"], sample.partialled["x"], sample.partialled["z"]
    clusters = {"cluster": sample.clusters["cluster:caseworker"], "hetero": None}
    absorbed = controls.n_absorbed
    loo_zw, loo_w = loo_fits(sample.treatments, sample.caseworkers, controls)
    joint = {
        "ols": ols(y, x, TREATMENTS, absorbed),
        "2sls": two_stage_least_squares(y, x, z, TREATMENTS, absorbed),
        "ujive": instrumented_fit(
            loo_zw - loo_w,
            sample.treatments,
            sample.outcome,
            TREATMENTS,
            absorbed,
            residual_regressors=x,
            residual_outcome=y,
        ),
        "jive1": instrumented_fit(controls.residualise(loo_zw), x, y, TREATMENTS, absorbed),
    }
    rows = []
    for estimator, fit in joint.items():
        for k, treatment in enumerate(TREATMENTS):
            for kind, cl in clusters.items():
                rows.append(
                    wald_row(
                        fit,
                        k,
                        cl,
                        model="joint",
                        estimator=estimator,
                        interval=f"wald_{kind}",
                        treatment=treatment,
                    )
                )
    rows += single_treatment_rows(sample, loo_zw, loo_w, clusters)
    seconds = time.perf_counter() - started
    for row in rows:
        row["seconds"] = seconds
    return rows


def single_treatment_rows(sample, loo_zw, loo_w, clusters) -> list[dict]:
    """Matching versus rest: 2SLS and UJIVE Wald intervals, tF, Anderson-Rubin."""
    controls = sample.controls
    absorbed = controls.n_absorbed
    y = sample.partialled["y"]
    x = sample.partialled["x"][:, [0]]
    z = sample.partialled["z"][:, [0]]
    names = ("matching",)
    first = ols(x[:, 0], z, ("z",), absorbed)
    reduced = ols(y, z, ("z",), absorbed)
    tsls = two_stage_least_squares(y, x, z, names, absorbed)
    ujive = instrumented_fit(
        (loo_zw - loo_w)[:, [0]],
        sample.treatments[:, [0]],
        sample.outcome,
        names,
        absorbed,
        residual_regressors=x,
        residual_outcome=y,
    )
    rows = []
    f_cluster = weak_iv.effective_f(first, z, clusters["cluster"])
    for estimator, fit in (("2sls", tsls), ("ujive", ujive)):
        for kind, cl in clusters.items():
            row = wald_row(
                fit,
                0,
                cl,
                model="single",
                estimator=estimator,
                interval=f"wald_{kind}",
                treatment="matching",
            )
            rows.append(row | {"first_stage_f": f_cluster})
    se = float(np.sqrt(sandwich_vcov(tsls, clusters["cluster"])[0, 0]))
    low, high, _ = weak_iv.tf_interval(float(tsls.coef[0]), se, f_cluster)
    rows.append(
        {
            "model": "single",
            "estimator": "2sls",
            "interval": "tf_cluster",
            "treatment": "matching",
            "coef": float(tsls.coef[0]),
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "first_stage_f": f_cluster,
        }
    )
    for kind, cl in clusters.items():
        ar = weak_iv.anderson_rubin_set(reduced, first, cl)
        low, high = ar.hull
        rows.append(
            {
                "model": "single",
                "estimator": "anderson_rubin",
                "interval": f"ar_{kind}",
                "treatment": "matching",
                "coef": np.nan,
                "se": np.nan,
                "ci_low": low,
                "ci_high": high,
                "first_stage_f": f_cluster,
                "_set": ar,
            }
        )
    return rows


def replication_task(task: tuple[str, int, int]) -> list[dict]:
    """Worker entry point: (design name, replication number, seed) -> draw rows."""
    name, replication, seed = task
    shared = payload()
    design = shared["designs"][name]
    rows = replicate(design, seed, shared["spec"])
    out = []
    for row in rows:
        truth = design.truth(row["treatment"])
        contained = row.pop("_set", None)
        covered = (
            contained.contains(truth)
            if contained is not None
            else bool(row["ci_low"] <= truth <= row["ci_high"])
        )
        out.append(
            row
            | {
                "design": name,
                "replication": replication,
                "seed": seed,
                "truth": truth,
                "covered": covered,
            }
        )
    return out


def run_monte_carlo(
    designs: Mapping[str, Mapping],
    replications: int,
    seed: int,
    spec: Mapping,
    processes: int = 1,
) -> pl.DataFrame:
    """Per-replication draws of every design (replication r uses seed + r in every design)."""
    built = {name: MonteCarloDesign.from_mapping(name, d) for name, d in designs.items()}
    tasks = [(name, r, seed + r) for name in built for r in range(replications)]
    shared = {"designs": built, "spec": dict(spec)}
    results = run_parallel(replication_task, tasks, processes, shared)
    rows = [row for rows in results for row in rows]
    draws = pl.DataFrame(rows, schema=DRAW_SCHEMA)
    return draws.sort("design", "replication", "model", "estimator", "interval", "treatment")


# ----------------------------------------------------------------------------- summary
SUMMARY_SCHEMA = {
    "design": pl.String,
    "model": pl.String,
    "estimator": pl.String,
    "interval": pl.String,
    "treatment": pl.String,
    "replications": pl.Int64,
    "truth": pl.Float64,
    "mean": pl.Float64,
    "bias": pl.Float64,
    "median_bias": pl.Float64,
    "sd": pl.Float64,
    "bias_in_se": pl.Float64,
    "bias_mc_se": pl.Float64,
    "iqr": pl.Float64,
    "median_bias_in_robust_sd": pl.Float64,
    "rmse": pl.Float64,
    "coverage": pl.Float64,
    "coverage_mc_se": pl.Float64,
    "mean_se": pl.Float64,
    "median_ci_length": pl.Float64,
    "share_unbounded": pl.Float64,
    "median_first_stage_f": pl.Float64,
    "runtime": pl.Float64,
}


def summarise(draws: pl.DataFrame) -> pl.DataFrame:
    """summary.csv: one row per design, model, estimator, interval and treatment.

    bias = mean(coef) - truth; bias_in_se = bias / sd(coef) (the estimator's own Monte Carlo
    standard deviation); bias_mc_se = sd / sqrt(replications); iqr and median_bias_in_robust_sd
    (median bias over IQR / 1.349) describe estimators without moments (just-identified IV
    under weak instruments) robustly; coverage = share of intervals that
    contain the truth (coverage_mc_se its binomial Monte Carlo error); mean_se = mean reported
    standard error; runtime = mean seconds per replication of the design (all its estimators).
    Point-estimate columns are empty for the Anderson-Rubin rows (a set, not an estimator).
    """
    error = pl.col("coef") - pl.col("truth")
    length = pl.col("ci_high") - pl.col("ci_low")
    n = pl.len()
    summary = draws.group_by("design", "model", "estimator", "interval", "treatment").agg(
        n.alias("replications"),
        pl.col("truth").first(),
        pl.col("coef").mean().alias("mean"),
        error.mean().alias("bias"),
        error.median().alias("median_bias"),
        pl.col("coef").std().alias("sd"),
        (pl.col("coef").quantile(0.75) - pl.col("coef").quantile(0.25)).alias("iqr"),
        (error.pow(2).mean().sqrt()).alias("rmse"),
        pl.col("covered").mean().alias("coverage"),
        pl.col("se").mean().alias("mean_se"),
        length.median().alias("median_ci_length"),
        (~length.is_finite()).mean().alias("share_unbounded"),
        pl.col("first_stage_f").median().alias("median_first_stage_f"),
    )
    runtime = draws.group_by("design", "replication").agg(pl.col("seconds").first())
    runtime = runtime.group_by("design").agg(pl.col("seconds").mean().alias("runtime"))
    summary = summary.join(runtime, on="design").with_columns(
        (pl.col("bias") / pl.col("sd")).alias("bias_in_se"),
        (pl.col("sd") / pl.col("replications").sqrt()).alias("bias_mc_se"),
        (pl.col("median_bias") / (pl.col("iqr") / IQR_PER_SD)).alias("median_bias_in_robust_sd"),
        (pl.col("coverage") * (1 - pl.col("coverage")) / pl.col("replications"))
        .sqrt()
        .alias("coverage_mc_se"),
    )
    summary = summary.with_columns(
        pl.when(pl.col("estimator") == "anderson_rubin").then(None).otherwise(pl.col(c)).alias(c)
        for c in (
            "mean",
            "bias",
            "median_bias",
            "sd",
            "iqr",
            "rmse",
            "bias_in_se",
            "bias_mc_se",
            "median_bias_in_robust_sd",
            "mean_se",
        )
    )
    order = {"ols": 0, "2sls": 1, "ujive": 2, "jive1": 3, "anderson_rubin": 4}
    summary = summary.with_columns(
        pl.col("estimator").replace_strict(order, default=9).alias("_order")
    )
    summary = summary.sort("design", "model", "treatment", "_order", "interval").drop("_order")
    return summary.select(list(SUMMARY_SCHEMA)).cast(SUMMARY_SCHEMA)
