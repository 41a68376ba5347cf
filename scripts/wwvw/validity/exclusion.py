"""Frandsen, Lefgren and Leslie (2023, AER, "Judging Judge Fixed Effects"): a joint test of
exclusion and monotonicity in judge (caseworker) designs.

Under random assignment, exclusion and monotonicity, the mean outcome of caseworker j depends on
j only through j's propensity to treat, mu_j = phi(p_j), and phi has a bounded slope: a change in
propensity moves only compliers, whose effect lies within the range of the outcome, so
|phi'(p)| <= max Y - min Y (= 1 for a binary outcome). The test has two parts: do the caseworker
means lie on a smooth function of the propensities (a generalisation of the Sargan-Hansen
overidentification test, which is the special case of a linear phi), and are the implied slopes
possible given the outcome's range?

Implementation (a minimum-distance version; FLL sec. II-III):

1. Caseworker effects on the outcome and on the treatment dummies, theta = (alpha_j, pi_j), from
   OLS on caseworker dummies with cell fixed effects and covariates partialled out; the
   caseworker with the largest caseload is the reference (effects are contrasts with it). Their
   joint heteroskedasticity-robust (HC1) covariance V comes from one stacked sandwich.
2. phi is a polynomial of degree K in the propensities; with the reference caseworker as origin,
   alpha_j = psi(pi_j) = sum_k gamma_k m_k(pi_j) with monomials m_k of degree 1..K (no constant).
   Under the null the residual r = alpha - psi(pi) has covariance A V A' with
   A = [I, -diag(dpsi/dpi)] (delta method for the estimated propensities), and
   T = min_gamma r' (A V A')^{-1} r  ~  chi2(J - 1 - dim gamma),
   computed by iterated GLS (the weight updated with the slopes).
3. Slope bounds: the fitted slopes dpsi/dpi at every caseworker's propensity must lie in
   [-(max Y - min Y), max Y - min Y]. If the unconstrained fit violates them, T is recomputed
   with the bounds imposed (a quadratic programme, the weight held at its last value); `joint`
   is the bounded statistic (equal to `fit` when the bounds do not bind).

Margins: `joint` (phi of both the Matching and the Activering propensity, the model the IV
estimates use) and `matching_vs_rest` (phi of the Matching propensity only; valid only if the
caseworker's Activering propensity has no effect of its own, so a rejection there alone is not
evidence against the joint model).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
import polars as pl
from scipy import optimize, sparse
from scipy.sparse import csgraph

from wwvw.estimation import distributions as dist
from wwvw.estimation.matrices import indicator_matrix

from .samples import Sample, controls_for

EXCLUSION_SCHEMA = {
    "test": pl.String,
    "margin": pl.String,
    "part": pl.String,
    "statistic": pl.Float64,
    "df": pl.Int64,
    "pvalue": pl.Float64,
    "reject_5pct": pl.Boolean,
    "degree": pl.Int64,
    "slope_low": pl.Float64,
    "slope_high": pl.Float64,
    "slope_bound": pl.Float64,
    "within_bounds": pl.Boolean,
    "n": pl.Int64,
    "n_caseworkers": pl.Int64,
}


@dataclass(frozen=True)
class CaseworkerEffects:
    """Caseworker contrasts with the reference caseworker of their connected set, and their joint
    covariance."""

    outcome: np.ndarray  # (K,) alpha of the K non-reference caseworkers
    treatments: np.ndarray  # (K, M) pi
    component: np.ndarray  # (K,) connected set of each non-reference caseworker
    n_components: int
    vcov: np.ndarray  # ((1+M)K)^2, ordered [alpha, pi_1, ..., pi_M]
    n: int

    @property
    def n_caseworkers(self) -> int:
        return self.outcome.size + self.n_components


def connected_sets(caseworkers: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Connected set of each caseworker code in the caseworker-cell graph: caseworker effects net
    of cell effects are identified only within a set (e.g. the caseworkers of one location)."""
    n_workers = int(caseworkers.max()) + 1
    n_cells = int(cells.max()) + 1
    links = sparse.coo_matrix(
        (np.ones(caseworkers.size), (caseworkers, n_workers + cells)),
        shape=(n_workers + n_cells,) * 2,
    )
    _, labels = csgraph.connected_components(links, directed=False)
    _, codes = np.unique(labels[:n_workers], return_inverse=True)
    return codes


def caseworker_effects(sample: Sample, treatments: np.ndarray) -> CaseworkerEffects:
    """Caseworker effects on the outcome and each treatment column (cell FE and covariates
    partialled out), as contrasts with the largest caseworker of each connected set."""
    controls = controls_for(sample)
    sizes = np.bincount(sample.caseworkers)
    sets = connected_sets(sample.caseworkers, sample.cells)
    references = [
        int(np.flatnonzero(sets == c)[np.argmax(sizes[sets == c])]) for c in np.unique(sets)
    ]
    keep = np.setdiff1d(np.arange(sizes.size), references)
    dummies = indicator_matrix(sample.caseworkers).toarray()[:, keep]
    regressors = controls.residualise(dummies)
    dependents = controls.residualise(np.column_stack([sample.outcome, treatments]))
    gram_inverse = np.linalg.inv(regressors.T @ regressors)
    coef = gram_inverse @ regressors.T @ dependents  # K x (1+M)
    residuals = dependents - regressors @ coef
    q = dependents.shape[1]
    scores = np.hstack([regressors * residuals[:, [a]] for a in range(q)])  # n x qK
    n = sample.n
    meat = scores.T @ scores * n / (n - keep.size - controls.n_absorbed)
    bread = np.kron(np.eye(q), gram_inverse)
    vcov = bread @ meat @ bread
    return CaseworkerEffects(
        coef[:, 0], coef[:, 1:], sets[keep], len(references), (vcov + vcov.T) / 2, n
    )


def monomials(points: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Monomials of total degree 1..degree of the columns of `points` (n x M), their partial
    derivatives (M x n x P) and the total degree of each."""
    n, m = points.shape
    powers = [
        np.bincount(np.array(combo), minlength=m)
        for d in range(1, degree + 1)
        for combo in combinations_with_replacement(range(m), d)
    ]
    values = np.column_stack([np.prod(points**p, axis=1) for p in powers])
    derivatives = np.zeros((m, n, len(powers)))
    for col, p in enumerate(powers):
        for dim in range(m):
            if p[dim] == 0:
                continue
            lowered = p.copy()
            lowered[dim] -= 1
            derivatives[dim, :, col] = p[dim] * np.prod(points**lowered, axis=1)
    return values, derivatives, [int(p.sum()) for p in powers]


def polynomial_design(
    effects: CaseworkerEffects, degree: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design of psi and its slopes at every caseworker (references, at pi = 0, last).

    Contrasts with a set's reference caseworker are phi(p_ref + pi) - phi(p_ref), and p_ref is
    not identified (the cells absorb each set's level). For a polynomial phi of degree K this is
    a polynomial in pi without constant whose top-degree coefficients are phi's own and whose
    lower-degree coefficients depend on p_ref: so the top-degree terms are common and the lower
    ones get one coefficient per connected set (exact, not an approximation).
    """
    pi, sets = effects.treatments, effects.component
    values, derivatives, degrees = monomials(pi, degree)
    _, at_origin, _ = monomials(np.zeros((1, pi.shape[1])), degree)
    columns, slope_columns, origin_columns = [], [], []
    for col, d in enumerate(degrees):
        groups = [None] if d == degree else range(effects.n_components)
        for c in groups:
            rows = np.ones(sets.size, bool) if c is None else sets == c
            columns.append(values[:, col] * rows)
            slope_columns.append(derivatives[:, :, col] * rows)
            origin = (
                np.ones(effects.n_components, bool)
                if c is None
                else np.arange(effects.n_components) == c
            )
            origin_columns.append(at_origin[:, 0, col][:, None] * origin[None, :])
    design = np.column_stack(columns)
    slopes = np.concatenate(
        [np.stack(slope_columns, axis=-1), np.stack(origin_columns, axis=-1)], axis=1
    )  # M x (K + sets) x P
    return design, slopes, np.array(degrees)


def residual_covariance(vcov: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Cov(alpha - psi(pi)) = A V A', A = [I, -diag(slope_1), ..., -diag(slope_M)]."""
    j = slopes.shape[1]
    a = np.hstack([np.eye(j)] + [-np.diag(s) for s in slopes])
    return a @ vcov @ a.T


def linear_distance(effects: CaseworkerEffects, slope: np.ndarray) -> float:
    """r' (A V A')^{-1} r for the linear phi with the given constant slopes (one per treatment):
    the Anderson-Rubin statistic of the caseworker-dummy IV model at that slope."""
    alpha, pi = effects.outcome, effects.treatments
    residual = alpha - pi @ slope
    slopes = np.repeat(slope[:, None], alpha.size, axis=1)
    covariance = residual_covariance(effects.vcov, slopes)
    return float(residual @ np.linalg.solve(covariance, residual))


def linear_fit(effects: CaseworkerEffects) -> tuple[np.ndarray, float]:
    """Slopes minimising the linear distance (the continuously updated / LIML-type estimate) and
    the minimum: the overidentification statistic that FLL generalise."""
    alpha, pi = effects.outcome, effects.treatments
    start = np.linalg.lstsq(pi, alpha, rcond=None)[0]
    result = optimize.minimize(
        lambda g: linear_distance(effects, g),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
    )
    return np.asarray(result.x), float(result.fun)


def fll_fit(effects: CaseworkerEffects, degree: int, slope_bound: float) -> dict:
    """Minimum-distance fit of alpha = psi(pi): linear overidentification statistic, polynomial
    fit statistic, fitted slopes and the statistic with the slope bounds imposed.

    The weight is fixed at (A V A')^{-1} with the slopes of the linear fit: letting it move with
    the polynomial's slopes would let the fit lower the statistic by inflating the variance.
    """
    alpha, pi = effects.outcome, effects.treatments
    slope, overid = linear_fit(effects)
    weight = np.linalg.inv(
        residual_covariance(effects.vcov, np.repeat(slope[:, None], alpha.size, axis=1))
    )
    weight = (weight + weight.T) / 2
    design, all_slopes, _ = polynomial_design(effects, degree)
    gamma = np.linalg.solve(design.T @ weight @ design, design.T @ weight @ alpha)
    residual = alpha - design @ gamma
    statistic = float(residual @ weight @ residual)
    slopes = all_slopes @ gamma  # M x caseworkers (references included)
    within = bool(np.all(np.abs(slopes) <= slope_bound))
    bounded = statistic
    if not within:
        bounded = bounded_statistic(alpha, design, weight, all_slopes, slope_bound)
    return {
        "overid_statistic": overid,
        "overid_df": alpha.size - pi.shape[1],
        "linear_slopes": slope,
        "statistic": statistic,
        "bounded_statistic": bounded,
        "df": alpha.size - design.shape[1],
        "slope_low": float(slopes.min()),
        "slope_high": float(slopes.max()),
        "within_bounds": within,
    }


def bounded_statistic(alpha, design, weight, slope_matrices, bound) -> float:
    """min (alpha - X g)' W (alpha - X g) subject to |slope_j(g)| <= bound at every caseworker
    (a convex quadratic programme), from the feasible start g = 0."""
    constraint_matrix = slope_matrices.reshape(-1, design.shape[1])

    def objective(g):
        residual = alpha - design @ g
        return float(residual @ weight @ residual)

    def gradient(g):
        return -2 * design.T @ weight @ (alpha - design @ g)

    constraints = [
        {
            "type": "ineq",
            "fun": lambda g: bound - constraint_matrix @ g,
            "jac": lambda g: -constraint_matrix,
        },
        {
            "type": "ineq",
            "fun": lambda g: bound + constraint_matrix @ g,
            "jac": lambda g: constraint_matrix,
        },
    ]
    result = optimize.minimize(
        objective,
        np.zeros(design.shape[1]),
        jac=gradient,
        constraints=constraints,
        method="SLSQP",
        tol=1e-12,
        options={"maxiter": 1000},
    )
    return float(result.fun)


def fll_rows(
    margin: str, fit: dict, degree: int, bound: float, n: int, n_caseworkers: int
) -> list[dict]:
    common = {
        "test": "frandsen_lefgren_leslie",
        "margin": margin,
        "degree": degree,
        "slope_low": fit["slope_low"],
        "slope_high": fit["slope_high"],
        "slope_bound": bound,
        "within_bounds": fit["within_bounds"],
        "n": n,
        "n_caseworkers": n_caseworkers,
    }
    rows = []
    parts = (
        ("overid_linear", fit["overid_statistic"], fit["overid_df"]),
        ("fit", fit["statistic"], fit["df"]),
        ("joint", fit["bounded_statistic"], fit["df"]),
    )
    for part, statistic, df in parts:
        pvalue = float(dist.chi2_sf(statistic, df))
        rows.append(
            common
            | {
                "part": part,
                "statistic": statistic,
                "df": df,
                "pvalue": pvalue,
                "reject_5pct": pvalue < 0.05,
            }
        )
    rows.append(common | {"part": "slope", "reject_5pct": not fit["within_bounds"]})
    return rows


def exclusion_table(sample: Sample, degree: int = 2) -> pl.DataFrame:
    """exclusion.csv: the FLL test for the joint model and the Matching-versus-rest margin."""
    bound = float(sample.outcome.max() - sample.outcome.min())
    rows = []
    margins = {"joint": sample.treatments, "matching_vs_rest": sample.treatments[:, [0]]}
    for margin, treatments in margins.items():
        effects = caseworker_effects(sample, treatments)
        fit = fll_fit(effects, degree, bound)
        rows += fll_rows(margin, fit, degree, bound, effects.n, effects.n_caseworkers)
    return pl.DataFrame(rows, schema=EXCLUSION_SCHEMA)
