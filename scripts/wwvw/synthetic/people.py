"""Persons of the synthetic municipality: covariates with the published marginals, the cohort, outcomes.

The study population (residents with a month of bijstand in the study window) is drawn with exact
level counts from Table 1. The analysis cohort is a subset of the 2015 inflow whose referral and
outcome follow the planted design (design.py). Outcomes of everyone else are calibrated so that,
with the cohort's outcomes held fixed, the number who start work in every Table 1 level equals the
published number: common random numbers make that calibration deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import polars as pl
from scipy.special import expit

from wwvw.cohort.registry import NAMES

from . import design as dgp
from .calendar import month_of_date

CHARACTERISTICS = NAMES  # in Table 1 order
AGE_BOUNDS = {"18-30": (18, 30), "30-45": (30, 45), "45-55": (45, 55), "55-65": (55, 65)}
# observed part of employability, by level: the log-odds gaps of the published starting rates
# (Table 1), so that the cohort's outcomes vary with covariates as the study population's do
EMPLOYABILITY = {
    "sex": {"man": 0.69, "woman": 0.0},
    "age_group": {"18-30": 3.37, "30-45": 2.60, "45-55": 1.59, "55-65": 0.0},
    "education": {"high": 1.39, "middle": 1.21, "low": 0.0, "unknown": 0.0},
    "work_history": {"none": 0.0, "up_to_12": 2.36, "over_12": 2.71},
    "migration": {
        "dutch": 0.0,
        "moroccan_turkish": -0.15,
        "surinamese_antillean": 0.42,
        "other": 0.13,
    },
    "chronic": {"0": 1.82, "1": 1.36, "2": 0.89, "3+": 0.0},
    "debts": {True: 0.58, False: 0.0},
    "children": {True: 0.1, False: 0.0},
}
# levels from least to most employable, and how strongly each follows the common factor
COVARIATE_ORDER = {
    "sex": ["woman", "man"],
    "age_group": ["55-65", "45-55", "30-45", "18-30"],
    "education": ["low", "middle", "high"],
    "work_history": ["none", "up_to_12", "over_12"],
    "chronic": ["3+", "2", "1", "0"],
}
COVARIATE_LOADINGS = {
    "sex": 0.2,
    "age_group": 0.6,
    "education": 0.5,
    "work_history": 0.6,
    "chronic": 0.6,
}
# composition of the study population by how the person entered bijstand (sums to the total)
ENTRY_SHARES = {"stock": 0.431, "inflow_2015": 0.253, "inflow_2016": 0.166, "inflow_2017": 0.150}
CHRONIC_3PLUS_SPLIT = {3: 0.55, 4: 0.28, 5: 0.12, 6: 0.05}
EDUCATION_UNKNOWN = 130  # persons absent from the education file of their reference year


@dataclass(frozen=True)
class CohortRules:
    """The cohort and outcome definitions (config `cohort`) the generator's truth depends on, as
    month indices. The referral window is not among them: the synthetic world's referrals are
    what they are, and the analyst's window selects from them."""

    study_start: int
    study_end: int
    benefit_start_year: int
    outcome_min_months: int
    followup_months: int
    followup_end: int

    @classmethod
    def from_config(cls, cohort: dict) -> CohortRules:
        return cls(
            study_start=month_of_date(cohort["study_start"]),
            study_end=month_of_date(cohort["study_end"]),
            benefit_start_year=cohort["benefit_start_year"],
            outcome_min_months=cohort["outcome_min_months"],
            followup_months=cohort["followup_months"],
            followup_end=month_of_date(cohort["followup_end"]),
        )

    def outcome_window(self, ref: np.ndarray) -> np.ndarray:
        """Latest month offset at which qualifying work may start (0: none possible)."""
        last_start = self.followup_end - (self.outcome_min_months - 1)
        return np.clip(np.minimum(self.followup_months, last_start - ref), 0, None)


# the config `cohort` keys the generator reads (rule synthetic_data receives only these)
COHORT_KEYS = tuple(f.name for f in fields(CohortRules))


def exact_levels(
    rng: np.random.Generator, counts: dict[str, int], n: int, score: np.ndarray | None = None
) -> np.ndarray:
    """Levels with exactly the given counts (scaled to n): at random, or, given a score, the first
    level to the lowest scores and so on (levels ordered from least to most employable)."""
    levels = list(counts)
    total = sum(counts.values())
    sizes = np.floor(np.array([counts[k] for k in levels]) * n / total).astype(int)
    sizes[np.argmax(sizes)] += n - sizes.sum()
    ordered = np.repeat(np.array(levels, dtype=object), sizes)
    if score is None:
        return rng.permutation(ordered)
    out = np.empty(n, dtype=object)
    out[np.argsort(score, kind="stable")] = ordered
    return out


def binary_counts(yes: int, n_total: int) -> dict[str, int]:
    return {"yes": yes, "no": n_total - yes}


def draw_covariates(rng: np.random.Generator, published: dict, ref: np.ndarray) -> pl.DataFrame:
    """Table 1 covariates with exact published level counts, plus birth month and age."""
    t1 = published["study_population"]["table1"]
    n = ref.size
    total = published["study_population"]["n"]
    cov: dict[str, np.ndarray] = {}
    factor = rng.normal(size=n)  # a common disadvantage factor: covariates are correlated
    for name in ("sex", "age_group", "education", "work_history", "migration", "chronic"):
        loading = COVARIATE_LOADINGS.get(name, 0.0)
        score = loading * factor + np.sqrt(1 - loading**2) * rng.normal(size=n)
        order = COVARIATE_ORDER.get(name, list(t1[name]))
        cov[name] = exact_levels(rng, {k: t1[name][k][0] for k in order}, n, score)
    for name in ("debts", "single", "children"):
        cov[name] = exact_levels(rng, binary_counts(t1[name]["yes"][0], total), n) == "yes"
    low = np.flatnonzero(cov["education"] == "low")
    cov["education"][rng.choice(low, min(EDUCATION_UNKNOWN, low.size), replace=False)] = "unknown"
    chronic_n = np.zeros(n, dtype=np.int8)
    for level in ("1", "2"):
        chronic_n[cov["chronic"] == level] = int(level)
    plus = np.flatnonzero(cov["chronic"] == "3+")
    chronic_n[plus] = rng.choice(
        list(CHRONIC_3PLUS_SPLIT), plus.size, p=list(CHRONIC_3PLUS_SPLIT.values())
    )
    lo = np.array([AGE_BOUNDS[g][0] for g in cov["age_group"]])
    hi = np.array([AGE_BOUNDS[g][1] for g in cov["age_group"]])
    age_months = rng.integers(lo * 12, hi * 12)
    birth_abs = (2010 * 12 + ref) - age_months
    work_months = np.select(
        [cov["work_history"] == "none", cov["work_history"] == "up_to_12"],
        [0, rng.integers(1, 13, n)],
        rng.integers(13, 41, n),
    )
    return pl.DataFrame(
        {
            **{k: (v.astype(str) if v.dtype == object else v) for k, v in cov.items()},
            "chronic_n": chronic_n,
            "birth_year": (birth_abs // 12).astype(np.int32),
            "birth_month": (birth_abs % 12 + 1).astype(np.int8),
            "age": (age_months // 12).astype(np.int16),
            "work_months": work_months.astype(np.int16),
        }
    )


def reference_months(rng: np.random.Generator, n: int, rules: CohortRules) -> tuple:
    """Entry type and reference month (first month with bijstand in the window) per person."""
    kinds = exact_levels(rng, {k: round(v * 100000) for k, v in ENTRY_SHARES.items()}, n)
    start = rules.study_start
    offset = {
        "stock": np.zeros(n, dtype=int),
        "inflow_2015": rng.integers(0, 12, n),
        "inflow_2016": 12 + rng.integers(0, 12, n),
        "inflow_2017": 24 + rng.integers(0, 12, n),
    }
    ref = np.zeros(n, dtype=np.int32)
    for kind, off in offset.items():
        ref[kinds == kind] = start + off[kinds == kind]
    return kinds.astype(str), ref


def observed_employability(cov: pl.DataFrame) -> np.ndarray:
    index = np.zeros(cov.height)
    for name, weights in EMPLOYABILITY.items():
        index += cov[name].replace_strict(weights, return_dtype=pl.Float64).to_numpy()
    return index


def calibrate_outcomes(
    cov: pl.DataFrame,
    published: dict,
    fixed: np.ndarray,
    fixed_outcome: np.ndarray,
    feasible: np.ndarray,
    uniform: np.ndarray,
    rounds: int = 12,
) -> np.ndarray:
    """Outcomes of the persons not `fixed`, so that starters per Table 1 level hit the published counts.

    A logit with one effect per level of every characteristic, whose expected starters per level
    equal the number still needed after the fixed persons: the score equations of a logistic
    regression with those counts as sufficient statistics, solved as a convex minimisation. The
    outcome is 1{U < p} with the uniforms held fixed; the targets are then nudged by what the
    realised draw misses, a few rounds, so that realised counts land within a few persons.
    """
    t1 = published["study_population"]["table1"]
    total_started = published["study_population"]["n_started"]
    # intercept plus every level but the last of each characteristic (reference coding): the
    # dropped levels' targets follow, since each characteristic's targets sum to the same total
    dummies = [np.ones(cov.height, dtype=bool)]
    needed = [total_started - fixed_outcome[fixed].sum()]
    for name in CHARACTERISTICS:
        levels = t1[name]
        col = cov[name]
        if col.dtype == pl.Boolean:
            col = col.replace_strict({True: "yes", False: "no"}, return_dtype=pl.String)
        if name == "education":
            col = col.replace("unknown", "low")
        values = col.to_numpy().astype(str)
        if list(levels) == ["yes"]:
            targets = {"yes": levels["yes"][1], "no": total_started - levels["yes"][1]}
        else:
            targets = {k: v[1] for k, v in levels.items()}
        for level, target in list(targets.items())[:-1]:
            members = values == level
            dummies.append(members)
            needed.append(target - fixed_outcome[members & fixed].sum())
    free = ~fixed & feasible
    X = np.column_stack(dummies).astype(float)[free]
    needed = np.array(needed, dtype=float)
    target = np.clip(needed, 0.5, None)
    theta = np.zeros(X.shape[1])
    u = uniform[free]
    for _ in range(rounds):
        theta = _solve_margins(X, target, theta)
        realised = X.T @ (u < expit(X @ theta))
        target = np.clip(target + 0.8 * (needed - realised), 0.5, None)
    outcome = fixed_outcome.copy()
    outcome[free] = u < expit(X @ theta)
    outcome[~fixed & ~feasible] = False
    return outcome


def _solve_margins(X: np.ndarray, target: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Newton's method with step halving on the (ridge-stabilised) convex logit margin problem."""
    ridge = 1e-6

    def loss(th):
        return np.logaddexp(0, X @ th).sum() - th @ target + ridge * th @ th

    current = loss(theta)
    for _ in range(100):
        p = expit(X @ theta)
        grad = X.T @ p - target + 2 * ridge * theta
        if np.abs(grad).max() < 1e-6:
            break
        hess = (X * (p * (1 - p))[:, None]).T @ X + 2 * ridge * np.eye(X.shape[1])
        step = np.linalg.solve(hess, grad)
        size = 1.0
        while size > 1e-4:
            candidate = theta - size * step
            value = loss(candidate)
            if value <= current:
                theta, current = candidate, value
                break
            size /= 2
        else:
            break
    return theta


def work_start_offsets(
    rng: np.random.Generator, window: np.ndarray, scale_months: float = 14.0
) -> np.ndarray:
    """Months from reference to the start of qualifying work, declining hazard, within the window."""
    u = rng.random(window.size)
    # inverse CDF of a truncated exponential on (0, window], discretised to 1..window
    top = 1 - np.exp(-np.maximum(window, 1) / scale_months)
    t = np.ceil(-scale_months * np.log(1 - u * top)).astype(int)
    return np.clip(t, 1, np.maximum(window, 1))


def cohort_design(config_synthetic: dict) -> dgp.Design:
    effects = {"prematching": 0.0, **config_synthetic["effects"]}
    return dgp.Design(effects=effects, effect_max_age=config_synthetic.get("effect_max_age"))
