"""Run estimation specifications on a cohort frame: the `estimates.csv` and diagnostics frames.

A specification is data, e.g.
    {"name": "joint_cov", "treatments": ["matching", "activering"],
     "instruments": "loo_residualised", "covariates": True}
    {"name": "matching_vs_rest_cov", "treatments": ["matching"], ...}
Treatments are referral dummies; the departments not listed form the reference group (Prematching
in the joint model, 'the rest' in a single-treatment model). Every specification yields OLS, the
first stages of each treatment on every instrument, the reduced form and the IV estimators it
lists (2sls with the propensity instruments; ujive and jive1 with caseworker dummies), each with
every standard-error type. Cell fixed effects are always partialled out. Intervals and p-values
use the normal approximation (coef -+ 1.96 se), also for clustered errors.

The headline row of each treatment (contract: exactly one `iv` row per treatment) is the UJIVE
estimate with heteroskedasticity-robust errors (config `estimation.headline_se_type`) from the
specification flagged `headline: true`, or else from the first full-sample specification with
covariates and UJIVE that contains the treatment. Robust rather than caseworker-clustered errors,
because caseworkers are assigned to clients one by one within cells: the assignment is not
clustered, so neither is the design-based variance (Abadie, Athey, Imbens and Wooldridge 2023,
QJE), and with 60 caseworkers the clustered variance is noisy enough to under-cover (Monte Carlo:
results/monte_carlo/summary.csv). The clustered rows stay in estimates.csv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import polars as pl

from wwvw.estimation import distributions as dist

from . import weak_iv
from .fixed_effects import Controls, make_controls
from .instruments import INSTRUMENT_KINDS, propensity_column, require_estimable, usable_sample
from .jackknife import jive1, ujive
from .linear import ols, two_stage_least_squares
from .matrices import TREATMENTS, covariate_matrix, department_dummies, group_codes, outcome_vector
from .variance import SE_TYPES, MomentFit, count_clusters, sandwich_vcov

IV_ESTIMATORS = ("2sls", "ujive", "jive1")
HEADLINE = {"model": "iv", "estimator": "ujive"}
HEADLINE_SE_TYPE = "hetero"
DIAGNOSTICS_SE_TYPE = "cluster:caseworker"
NORMAL_95 = dist.norm_isf(0.025)

ESTIMATES_SCHEMA = {
    "model": pl.String,
    "estimator": pl.String,
    "specification": pl.String,
    "treatment": pl.String,
    "regressor": pl.String,
    "subgroup": pl.String,
    "coef": pl.Float64,
    "se": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pvalue": pl.Float64,
    "se_type": pl.String,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
    "headline": pl.Boolean,
}
DIAGNOSTICS_SCHEMA = {
    "specification": pl.String,
    "treatment": pl.String,
    "subgroup": pl.String,
    "instruments": pl.String,
    "se_type": pl.String,
    "n": pl.Int64,
    "n_clusters": pl.Int64,
    "first_stage_f": pl.Float64,
    "first_stage_f_hetero": pl.Float64,
    "sanderson_windmeijer_f": pl.Float64,
    "effective_f": pl.Float64,
    "effective_f_critical_5pct_tau10": pl.Float64,
    "tf_critical_value": pl.Float64,
    "tf_ci_low": pl.Float64,
    "tf_ci_high": pl.Float64,
    "ar_set_type": pl.String,
    "ar_ci_low": pl.Float64,
    "ar_ci_high": pl.Float64,
    "ar_gap_low": pl.Float64,
    "ar_gap_high": pl.Float64,
    "ar_set": pl.String,
}


@dataclass(frozen=True)
class Specification:
    """One estimation specification (see the module docstring)."""

    name: str
    treatments: tuple[str, ...]
    instruments: str = "loo_residualised"  # propensity kind for first stage, reduced form, 2SLS
    covariates: bool = True
    min_caseload: int = 2  # caseworkers with fewer clients are dropped (and one-client cells)
    estimators: tuple[str, ...] = ("2sls", "ujive")
    split_seed: int = 0  # seed of the random halves of the split-sample instrument
    subgroup: str = "all"  # or variable=level
    headline: bool | None = None  # True: this specification carries the headline rows

    @classmethod
    def from_mapping(cls, spec: Mapping) -> Specification:
        """Validate a specification dict and fill in the defaults."""
        known = {f.name for f in fields(cls)}
        missing = {"name", "treatments"} - set(spec)
        if missing:
            raise ValueError(f"specification {dict(spec)!r}: missing keys {sorted(missing)}")
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"specification {spec.get('name')!r}: unknown keys {sorted(unknown)}")
        values = dict(spec)
        values["treatments"] = tuple(values["treatments"])
        values["estimators"] = tuple(values.get("estimators", cls.estimators))
        out = cls(**values)
        out.check()
        return out

    def check(self) -> None:
        problems = []
        if not self.treatments or set(self.treatments) - set(TREATMENTS):
            problems.append(f"treatments must be a non-empty subset of {TREATMENTS}")
        if self.instruments not in INSTRUMENT_KINDS:
            problems.append(f"instruments must be one of {INSTRUMENT_KINDS}")
        if set(self.estimators) - set(IV_ESTIMATORS):
            problems.append(f"estimators must be a subset of {IV_ESTIMATORS}")
        if self.min_caseload < 2:
            problems.append("min_caseload must be at least 2 (leave-one-out needs another client)")
        if self.subgroup != "all" and "=" not in self.subgroup:
            problems.append("subgroup must be 'all' or 'variable=level'")
        if self.headline and (self.subgroup != "all" or "ujive" not in self.estimators):
            problems.append("a headline specification needs subgroup 'all' and the ujive estimator")
        if problems:
            raise ValueError(f"specification {self.name!r}: " + "; ".join(problems))


@dataclass(frozen=True)
class EstimationSample:
    """Everything the estimators need, controls already partialled out where it matters."""

    frame: pl.DataFrame
    outcome: np.ndarray  # raw y
    treatments: np.ndarray  # raw X, n x p
    controls: Controls
    caseworkers: np.ndarray  # codes: the UJIVE/JIVE1 instruments and a cluster variable
    clusters: dict[str, np.ndarray | None]
    propensities: np.ndarray  # raw instruments Z, n x p
    partialled: dict[str, np.ndarray] = field(default_factory=dict)  # y, x, z after M_W

    @property
    def n(self) -> int:
        return self.frame.height


@dataclass(frozen=True)
class LabelledFit:
    """A fit with the contract labels of its coefficients."""

    model: str
    estimator: str
    fit: MomentFit
    treatments: tuple[str, ...]  # the `treatment` label of each coefficient


# ----------------------------------------------------------------------------- samples
def select_subgroup(cohort: pl.DataFrame, subgroup: str) -> pl.DataFrame:
    """Rows of the subgroup `variable=level` (all rows for 'all')."""
    if subgroup == "all":
        return cohort
    variable, level = subgroup.split("=", 1)
    return cohort.filter(pl.col(variable).cast(pl.String) == level)


def prepare_sample(cohort: pl.DataFrame, spec: Specification) -> EstimationSample:
    """Subgroup, minimum caseload and cell size, instruments, and the partialled arrays of a
    specification. Clients alone in their assignment cell are dropped with the caseworkers below
    the minimum caseload, until neither is left (`instruments.drop_small_groups`): either would
    have leverage 1, leaving UJIVE and JIVE1 undefined."""
    chosen = select_subgroup(cohort, spec.subgroup)
    frame = usable_sample(
        chosen, spec.treatments, spec.instruments, spec.split_seed, spec.min_caseload
    )
    require_estimable(chosen, frame, spec.min_caseload)
    z_columns = [propensity_column(t) for t in spec.treatments]
    cells, _ = group_codes(frame["cell"])
    covariates = covariate_matrix(frame)[0] if spec.covariates else None
    controls = make_controls(cells, covariates)
    caseworkers, _ = group_codes(frame["caseworker"])
    y = outcome_vector(frame)
    x = department_dummies(frame, spec.treatments)
    z = frame.select(z_columns).to_numpy()
    clusters = {
        "hetero": None,
        "cluster:caseworker": caseworkers,
        "cluster:client": group_codes(frame["person_id"])[0],
    }
    partialled = {"y": controls.residualise(y), "x": controls.residualise(x)}
    partialled["z"] = controls.residualise(z)
    return EstimationSample(frame, y, x, controls, caseworkers, clusters, z, partialled)


# ----------------------------------------------------------------------------- fits
def fit_models(sample: EstimationSample, spec: Specification) -> list[LabelledFit]:
    """OLS, first stages, reduced form and the requested IV estimators of a specification."""
    y, x, z = sample.partialled["y"], sample.partialled["x"], sample.partialled["z"]
    absorbed = sample.controls.n_absorbed
    treatments = spec.treatments
    instruments = tuple(propensity_column(t) for t in treatments)
    fits = [LabelledFit("ols", "ols", ols(y, x, treatments, absorbed), treatments)]
    for k, treatment in enumerate(treatments):
        first = ols(x[:, k], z, instruments, absorbed)
        fits.append(LabelledFit("first_stage", "ols", first, (treatment,) * len(treatments)))
    fits.append(LabelledFit("reduced_form", "ols", ols(y, z, instruments, absorbed), treatments))
    for estimator in spec.estimators:
        fits.append(LabelledFit("iv", estimator, fit_iv(sample, spec, estimator), treatments))
    return fits


def fit_iv(sample: EstimationSample, spec: Specification, estimator: str) -> MomentFit:
    """One IV estimator: 2SLS on the propensities, UJIVE/JIVE1 on caseworker dummies."""
    if estimator == "2sls":
        p = sample.partialled
        return two_stage_least_squares(
            p["y"], p["x"], p["z"], spec.treatments, sample.controls.n_absorbed
        )
    jackknife = {"ujive": ujive, "jive1": jive1}[estimator]
    return jackknife(
        sample.outcome, sample.treatments, sample.caseworkers, sample.controls, spec.treatments
    )


def coefficient_rows(
    labelled: LabelledFit, sample: EstimationSample, spec: Specification, se_types: Sequence[str]
) -> list[dict]:
    """One contract row per coefficient and standard-error type."""
    rows = []
    fit = labelled.fit
    for se_type in se_types:
        clusters = sample.clusters[se_type]
        se = np.sqrt(np.diag(sandwich_vcov(fit, clusters)))
        for k, regressor in enumerate(fit.names):
            coef = float(fit.coef[k])
            rows.append(
                {
                    "model": labelled.model,
                    "estimator": labelled.estimator,
                    "specification": spec.name,
                    "treatment": labelled.treatments[k],
                    "regressor": regressor,
                    "subgroup": spec.subgroup,
                    "coef": coef,
                    "se": float(se[k]),
                    "ci_low": coef - NORMAL_95 * se[k],
                    "ci_high": coef + NORMAL_95 * se[k],
                    "pvalue": float(2 * dist.norm_sf(abs(coef / se[k]))),
                    "se_type": se_type,
                    "n": fit.n,
                    "n_clusters": count_clusters(clusters),
                    "headline": False,
                }
            )
    return rows


# ----------------------------------------------------------------------------- diagnostics
def diagnostics_rows(
    sample: EstimationSample, spec: Specification, fits: list[LabelledFit], se_type: str
) -> list[dict]:
    """One row per treatment: instrument strength, tF and Anderson-Rubin inference."""
    clusters = sample.clusters[se_type]
    p = sample.partialled
    absorbed = sample.controls.n_absorbed
    rows = []
    for k, treatment in enumerate(spec.treatments):
        row = {
            "specification": spec.name,
            "treatment": treatment,
            "subgroup": spec.subgroup,
            "instruments": spec.instruments,
            "se_type": se_type,
            "n": sample.n,
            "n_clusters": count_clusters(clusters),
            "first_stage_f": weak_iv.first_stage_f(p["x"][:, k], p["z"], absorbed, clusters),
            "first_stage_f_hetero": weak_iv.first_stage_f(p["x"][:, k], p["z"], absorbed, None),
            "sanderson_windmeijer_f": weak_iv.sanderson_windmeijer_f(
                p["x"], p["z"], k, absorbed, clusters
            ),
        }
        if len(spec.treatments) == 1:
            row |= single_instrument_diagnostics(sample, fits, clusters)
        rows.append(row)
    return rows


def single_instrument_diagnostics(
    sample: EstimationSample, fits: list[LabelledFit], clusters: np.ndarray | None
) -> dict:
    """Effective F, tF interval and AR set of the just-identified model."""
    by_model = {(f.model, f.estimator): f.fit for f in fits}
    first, reduced = by_model[("first_stage", "ols")], by_model[("reduced_form", "ols")]
    tsls = by_model.get(("iv", "2sls")) or two_stage_least_squares(
        sample.partialled["y"],
        sample.partialled["x"],
        sample.partialled["z"],
        first.names,
        sample.controls.n_absorbed,
    )
    f_eff = weak_iv.effective_f(first, sample.partialled["z"], clusters)
    se = float(np.sqrt(sandwich_vcov(tsls, clusters)[0, 0]))
    tf_low, tf_high, tf_critical = weak_iv.tf_interval(float(tsls.coef[0]), se, f_eff)
    ar = weak_iv.anderson_rubin_set(reduced, first, clusters)
    gap = ar.gap or (None, None)
    return {
        "effective_f": f_eff,
        "effective_f_critical_5pct_tau10": weak_iv.mop_critical_value(0.05, 0.10, 1.0),
        "tf_critical_value": tf_critical,
        "tf_ci_low": tf_low,
        "tf_ci_high": tf_high,
        "ar_set_type": ar.kind,
        "ar_ci_low": ar.hull[0],
        "ar_ci_high": ar.hull[1],
        "ar_gap_low": gap[0],
        "ar_gap_high": gap[1],
        "ar_set": ar.describe(),
    }


# ----------------------------------------------------------------------------- headline
def headline_specifications(specs: Sequence[Specification]) -> dict[str, str]:
    """Treatment -> name of the specification whose UJIVE row is the headline.

    Specifications flagged `headline: true` win; otherwise the first full-sample specification
    with covariates and UJIVE that contains the treatment.
    """
    flagged = [s for s in specs if s.headline]
    candidates = flagged or [
        s for s in specs if s.covariates and s.subgroup == "all" and "ujive" in s.estimators
    ]
    chosen: dict[str, str] = {}
    for spec in candidates:
        for treatment in spec.treatments:
            if treatment in chosen and flagged:
                raise ValueError(f"two headline specifications for {treatment!r}")
            chosen.setdefault(treatment, spec.name)
    return chosen


def mark_headline(
    estimates: pl.DataFrame, chosen: Mapping[str, str], se_type: str = HEADLINE_SE_TYPE
) -> pl.DataFrame:
    """Set headline = True on the UJIVE full-sample row with `se_type` errors of each treatment."""
    if se_type not in SE_TYPES:
        raise ValueError(f"unknown headline se_type {se_type!r}; expected one of {SE_TYPES}")
    wanted = HEADLINE | {"se_type": se_type}
    condition = pl.lit(False)
    for treatment, spec_name in chosen.items():
        condition = condition | (
            (pl.col("treatment") == treatment)
            & (pl.col("regressor") == treatment)
            & (pl.col("specification") == spec_name)
            & (pl.col("subgroup") == "all")
            & pl.all_horizontal(pl.col(k) == v for k, v in wanted.items())
        )
    return estimates.with_columns(headline=condition)


# ----------------------------------------------------------------------------- entry point
def run_specifications(
    cohort: pl.DataFrame,
    specifications: Sequence[Mapping],
    se_types: Sequence[str] = SE_TYPES,
    diagnostics_se_type: str = DIAGNOSTICS_SE_TYPE,
    headline_se_type: str = HEADLINE_SE_TYPE,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Estimate every specification; return (estimates, diagnostics) frames.

    estimates follow the `estimates.csv` contract (one row per coefficient and se_type);
    diagnostics have one row per specification and treatment (weak-IV statistics computed with
    `diagnostics_se_type` standard errors).
    """
    specs = [Specification.from_mapping(s) for s in specifications]
    if len({s.name for s in specs}) != len(specs):
        raise ValueError("specification names must be unique")
    estimate_rows, diagnostic_rows = [], []
    for spec in specs:
        sample = prepare_sample(cohort, spec)
        fits = fit_models(sample, spec)
        for labelled in fits:
            estimate_rows += coefficient_rows(labelled, sample, spec, se_types)
        diagnostic_rows += diagnostics_rows(sample, spec, fits, diagnostics_se_type)
    estimates = pl.DataFrame(estimate_rows, schema=ESTIMATES_SCHEMA)
    estimates = mark_headline(estimates, headline_specifications(specs), headline_se_type)
    diagnostics = pl.DataFrame(diagnostic_rows, schema=DIAGNOSTICS_SCHEMA)
    return estimates, diagnostics


def collect_estimates(
    estimate_paths: Sequence[str],
    diagnostic_paths: Sequence[str],
    specs: Sequence[Mapping],
    headline_se_type: str = "hetero",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All specifications' rows (one file each) in specification order, exactly one headline row
    per treatment; their diagnostics stacked."""
    estimates = pl.concat([pl.read_csv(p) for p in estimate_paths], how="vertical_relaxed")
    diagnostics = pl.concat([pl.read_csv(p) for p in diagnostic_paths], how="diagonal_relaxed")
    chosen = headline_specifications([Specification.from_mapping(s) for s in specs])
    return mark_headline(estimates, chosen, headline_se_type), diagnostics
