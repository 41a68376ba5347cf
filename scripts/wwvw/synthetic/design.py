"""The planted causal design of the synthetic cohort: caseworkers, random assignment, referral, outcome.

This module knows nothing about registers or file layouts. It is the data-generating process that
the estimators must recover, usable on its own (the Monte Carlo validation replicates it with other
seeds) and by the register generator, which wraps its draws in CBS and municipal files.

The model, for client i referred at intake by caseworker j in assignment cell c (location x quarter):
    employability  e_i = standardised(X_i beta + u_i)              (u_i unobserved by the analyst)
    referral index s_i = e_i + eta_i
    department     Matching    if s_i + zm_j > cut_m
                   Activering  if s_i - za_j < cut_a (and not Matching)
                   Prematching otherwise
    outcome        Y_i(d) = 1{U_i < p0_i + tau_d},   p0_i = min(expit(a + g e_i + k min(e_i, 0)), 0.85)
with tau_prematching = 0. Caseworkers are drawn uniformly among those active in the client's cell,
so the leniencies (zm_j, za_j) are independent of (e_i, U_i) within cells: the instrument is valid,
and the ordered referral rule makes it monotone. The naive comparison is biased because referral
and the outcome both rise with e_i. The effect on the probability is tau_d for every client whose
p0_i + tau_d stays in [0, 1] (guaranteed by the cap), so LATE = ATE = tau_d.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.optimize import least_squares
from scipy.special import expit

DEPARTMENTS = ("matching", "prematching", "activering")
P0_CAP = 0.85


@dataclass(frozen=True)
class Design:
    """Parameters of the cohort-level data-generating process."""

    locations: tuple[str, ...] = (
        "Werkplein Noord",
        "Werkplein Zuid",
        "Werkplein Centrum",
        "Werkplein Oost",
    )
    caseworkers_per_location: int = 15
    periods: int = 12  # intake quarters 2015Q1 .. 2017Q4
    active_share: float = 0.85  # a caseworker works in a given quarter with this probability
    # caseworker leniency on the referral-index scale (sd of e + noise: 1.17); 0.6 gives the
    # headline UJIVE a standard error of about 0.03, so a planted effect of 0.10 is found with
    # power above 0.9 (at 0.35 the power was about one half: finding it was a coin flip)
    leniency_sd_matching: float = 0.6
    leniency_sd_activering: float = 0.6
    referral_noise_sd: float = 0.6
    unobserved_share: float = 0.3  # share of the variance of e that the analyst cannot see
    share_matching: float = 2888 / 5988
    share_activering: float = 1057 / 5988
    # raw outcome rates by department (Table 2) the selection is calibrated to
    rate_matching: float = 1277 / 2888
    rate_prematching: float = 234 / 2043
    rate_activering: float = 24 / 1057
    effects: dict[str, float] = field(
        default_factory=lambda: {"matching": 0.10, "prematching": 0.0, "activering": 0.0}
    )
    effect_max_age: int | None = None


def caseworker_roster(rng: np.random.Generator, design: Design) -> pl.DataFrame:
    """Caseworkers with their location, leniencies and the quarters in which they do intakes."""
    n_loc = len(design.locations)
    n = n_loc * design.caseworkers_per_location
    codes = _pseudonymous_codes(rng, n, prefix="WC")
    location = np.repeat(np.arange(n_loc), design.caseworkers_per_location)
    active = rng.random((n, design.periods)) < design.active_share
    # every cell keeps at least three caseworkers
    for loc in range(n_loc):
        rows = np.flatnonzero(location == loc)
        for p in range(design.periods):
            if active[rows, p].sum() < 3:
                active[rng.choice(rows, 3, replace=False), p] = True
    return pl.DataFrame(
        {
            "caseworker": codes,
            "location_id": location.astype(np.int32),
            "leniency_matching": rng.normal(0, design.leniency_sd_matching, n),
            "leniency_activering": rng.normal(0, design.leniency_sd_activering, n),
            "active": [list(map(bool, row)) for row in active],
        }
    )


def assign_caseworkers(
    rng: np.random.Generator, location_id: np.ndarray, period: np.ndarray, roster: pl.DataFrame
) -> np.ndarray:
    """Index into roster of the intake caseworker: uniform among those active in the client's cell."""
    active = np.array(roster["active"].to_list(), dtype=bool)
    roster_loc = roster["location_id"].to_numpy()
    out = np.empty(len(location_id), dtype=np.int64)
    for loc in np.unique(location_id):
        for p in np.unique(period):
            clients = np.flatnonzero((location_id == loc) & (period == p))
            if clients.size == 0:
                continue
            pool = np.flatnonzero((roster_loc == loc) & active[:, p])
            out[clients] = pool[rng.integers(0, pool.size, clients.size)]
    return out


def employability(rng: np.random.Generator, observed_index: np.ndarray, design: Design):
    """Standardised employability e = observed part + unobserved part, and the unobserved part."""
    obs = (observed_index - observed_index.mean()) / observed_index.std()
    u = rng.normal(0.0, 1.0, obs.size)
    w = design.unobserved_share
    return np.sqrt(1 - w) * obs + np.sqrt(w) * u, u


def refer(
    e: np.ndarray, noise: np.ndarray, zm: np.ndarray, za: np.ndarray, design: Design
) -> np.ndarray:
    """Department code per client (0 matching, 1 prematching, 2 activering) by the ordered rule."""
    s = e + noise
    cut_m = np.quantile(s + zm, 1 - design.share_matching)
    to_matching = s + zm > cut_m
    # the Activering cut among the clients not sent to Matching, so that the department sizes hit
    # their shares whatever the leniency spread (a cut over everyone loses the clients below it
    # who already went to Matching, more of them the larger the spread)
    rest = ~to_matching
    share_of_rest = min(design.share_activering * s.size / max(rest.sum(), 1), 1.0)
    cut_a = np.quantile((s - za)[rest], share_of_rest) if rest.any() else -np.inf
    to_activering = (s - za < cut_a) & rest
    return np.where(to_matching, 0, np.where(to_activering, 2, 1)).astype(np.int8)


def baseline_probability(e: np.ndarray, dept: np.ndarray, design: Design) -> np.ndarray:
    """p0 = P(outcome | Prematching), calibrated so that raw rates by department match Table 2."""
    effect = np.array([design.effects[d] for d in DEPARTMENTS])
    targets = np.array([design.rate_matching, design.rate_prematching, design.rate_activering])
    groups = [dept == k for k in range(3)]

    def p0(theta):
        return np.minimum(expit(theta[0] + theta[1] * e + theta[2] * np.minimum(e, 0)), P0_CAP)

    def gap(theta):
        p = p0(theta)
        return [p[g].mean() + effect[k] - targets[k] for k, g in enumerate(groups)]

    fit = least_squares(gap, x0=[-1.5, 1.2, 2.0], bounds=([-10, 0, 0], [10, 10, 20]))
    return p0(fit.x)


def individual_effects(age: np.ndarray, design: Design) -> dict[str, np.ndarray]:
    """Effect of each department against Prematching for every client (heterogeneity by age)."""
    applies = np.ones(age.size, dtype=bool)
    if design.effect_max_age is not None:
        applies = age < design.effect_max_age
    return {d: np.where(applies, design.effects[d], 0.0) for d in DEPARTMENTS}


def potential_outcomes(
    uniform: np.ndarray, p0: np.ndarray, effects: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Y(d) = 1{U < p0 + tau_d}: one uniform per client, so effects are exactly monotone."""
    return {d: uniform < np.clip(p0 + effects[d], 0, 1) for d in DEPARTMENTS}


def _pseudonymous_codes(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    alphabet = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
    codes: set[str] = set()
    while len(codes) < n:
        codes.add(prefix + "".join(rng.choice(alphabet, 4)))
    ordered = sorted(codes)
    return [ordered[i] for i in rng.permutation(n)]
