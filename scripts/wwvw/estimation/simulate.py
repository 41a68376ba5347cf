"""A cohort-level simulator with the planted design, for tests and Monte Carlo studies.

It skips the registers entirely: covariates are drawn independently with the published Table 1
shares, and caseworkers, assignment, referral and outcomes come from the data-generating process
in wwvw.synthetic.design (caseworker_roster, assign_caseworkers, employability, refer,
baseline_probability, individual_effects, potential_outcomes). The observed part of employability
is the synthetic generator's own index (wwvw.synthetic.people.observed_employability). The frame
has the cohort schema (results/<snapshot>/cohort/cohort.parquet); the planted effects are
design.effects (matching +0.10, activering 0 against Prematching by default).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wwvw.synthetic import design as dgp
from wwvw.synthetic.people import AGE_BOUNDS, observed_employability

FIRST_INTAKE_YEAR = 2015
# Table 1 shares of the study population (STUDY.md)
LEVEL_SHARES = {
    "sex": {"man": 0.435, "woman": 0.565},
    "age_group": {"18-30": 0.134, "30-45": 0.386, "45-55": 0.292, "55-65": 0.188},
    "education": {"high": 0.062, "middle": 0.293, "low": 0.641, "unknown": 0.004},
    "work_history": {"none": 0.791, "up_to_12": 0.151, "over_12": 0.058},
    "migration": {
        "dutch": 0.233,
        "moroccan_turkish": 0.281,
        "surinamese_antillean": 0.216,
        "other": 0.270,
    },
    "chronic": {"0": 0.350, "1": 0.241, "2": 0.164, "3+": 0.245},
}
BOOLEAN_SHARES = {"debts": 0.190, "single": 0.742, "children": 0.496}

COHORT_COVARIATES = (
    "sex",
    "age",
    "age_group",
    "education",
    "work_history",
    "migration",
    "chronic",
    "debts",
    "single",
    "children",
)


def draw_level(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    """n draws of a categorical variable with the given level shares."""
    levels = list(shares)
    p = np.array([shares[k] for k in levels])
    return np.array(levels, dtype=object)[rng.choice(len(levels), n, p=p / p.sum())]


def draw_covariates(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Independent covariates with the Table 1 shares; age uniform within its age group."""
    columns = {
        name: draw_level(rng, shares, n).astype(str) for name, shares in LEVEL_SHARES.items()
    }
    low = np.array([AGE_BOUNDS[g][0] for g in columns["age_group"]])
    high = np.array([AGE_BOUNDS[g][1] for g in columns["age_group"]])
    age = rng.integers(low, high)
    booleans = {name: rng.random(n) < share for name, share in BOOLEAN_SHARES.items()}
    return pl.DataFrame(columns | booleans).with_columns(pl.Series("age", age, dtype=pl.Int64))


def draw_intake_cells(
    rng: np.random.Generator, n: int, design: dgp.Design, intake_quarters: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Location index and intake quarter (0 = 2015Q1) of each client.

    By default intake follows a benefit start uniform over 2015 by 5 to 150 days, as in the
    synthetic generator, so intakes spread over 2015Q1..2016Q2 (24 cells with 4 locations). With
    `intake_quarters`, quarters are uniform over the first `intake_quarters` instead (to vary the
    number of cells in a Monte Carlo).
    """
    location = rng.integers(0, len(design.locations), n)
    if intake_quarters is not None:
        if not 1 <= intake_quarters <= design.periods:
            raise ValueError(f"intake_quarters must be between 1 and {design.periods}")
        return location, rng.integers(0, intake_quarters, n)
    intake_day = rng.integers(0, 365, n) + rng.integers(5, 151, n)
    period = np.minimum(intake_day * 4 // 365, design.periods - 1)
    return location, period


def quarter_label(period: np.ndarray) -> np.ndarray:
    """'2015Q1' style labels of quarter indices counted from 2015Q1."""
    years = FIRST_INTAKE_YEAR + period // 4
    return np.array([f"{y}Q{q}" for y, q in zip(years, period % 4 + 1, strict=True)])


def simulate_cohort(
    seed: int,
    n_clients: int = 6000,
    design: dgp.Design | None = None,
    intake_quarters: int | None = None,
    include_truth: bool = False,
) -> pl.DataFrame:
    """A synthetic analysis cohort in the cohort schema, drawn from the planted design.

    Cells are location x intake quarter (see draw_intake_cells for `intake_quarters`).

    With include_truth, adds employability, p0, the potential outcomes y_<department> and the
    individual effects effect_<department> (for Monte Carlo checks; never used by estimators).
    """
    design = dgp.Design() if design is None else design
    rng = np.random.default_rng(seed)
    covariates = draw_covariates(rng, n_clients)
    e, _ = dgp.employability(rng, observed_employability(covariates), design)
    roster = dgp.caseworker_roster(rng, design)
    location, period = draw_intake_cells(rng, n_clients, design, intake_quarters)
    caseworker = dgp.assign_caseworkers(rng, location, period, roster)
    noise = rng.normal(0.0, design.referral_noise_sd, n_clients)
    zm = roster["leniency_matching"].to_numpy()[caseworker]
    za = roster["leniency_activering"].to_numpy()[caseworker]
    dept = dgp.refer(e, noise, zm, za, design)
    p0 = dgp.baseline_probability(e, dept, design)
    effects = dgp.individual_effects(covariates["age"].to_numpy(), design)
    potential = dgp.potential_outcomes(rng.random(n_clients), p0, effects)
    outcome = np.choose(dept, [potential[d] for d in dgp.DEPARTMENTS])
    location_name = np.array(design.locations)[location]
    intake_period = quarter_label(period)
    frame = pl.DataFrame(
        {
            "person_id": [f"P{i:06d}" for i in range(n_clients)],
            "caseworker": roster["caseworker"].to_numpy()[caseworker],
            "location": location_name,
            "intake_period": intake_period,
            "cell": np.char.add(np.char.add(location_name.astype(str), "|"), intake_period),
            "department": np.array(dgp.DEPARTMENTS)[dept],
            "outcome": outcome.astype(bool),
        }
    ).hstack(covariates.select(COHORT_COVARIATES))
    if include_truth:
        frame = frame.with_columns(
            pl.Series("employability", e),
            pl.Series("p0", p0),
            *[pl.Series(f"y_{d}", potential[d]) for d in dgp.DEPARTMENTS],
            *[pl.Series(f"effect_{d}", effects[d]) for d in dgp.DEPARTMENTS],
        )
    return frame
