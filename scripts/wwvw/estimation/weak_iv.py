"""Instrument strength and weak-instrument-robust inference.

- First-stage F: robust (HC1/CR1) Wald statistic on the excluded instruments divided by their
  number.
- Effective F (Montiel Olea and Pflueger 2013, JBES): F_eff = pi'(Z'Z)pi / tr(V_pi Z'Z) with the
  controls fully partialled out of Z; with one instrument it equals the robust first-stage F.
  Critical values: the 'simplified' (Nagar-bias, conservative) procedure, the 1-alpha quantile of a
  noncentral chi-squared(K_eff, K_eff/tau) divided by K_eff; for K_eff = 1, alpha = 5% and
  worst-case bias tau = 10% this is 23.109 (MOP 2013; Andrews, Stock and Sun 2019).
- Sanderson-Windmeijer (2016, J. Econometrics) conditional F for endogenous variable j: 2SLS of
  x_j on the other endogenous regressors, then the robust Wald statistic of its residual on all
  instruments divided by (L - p + 1).
- tF (Lee, McCrary, Moreira and Porter 2022, AER): t-ratio critical value c_0.05(F) as a function
  of the first-stage F. The published table (sqrt(F) = 2.0, 2.1, ..., 10.3) is interpolated
  linearly in sqrt(F) as in the authors' code; it is the exact function below rounded up to two
  decimals, which tests verify. F = 10 gives 3.435 (exact 3.430), F >= 106.09 gives 1.96.
- Anderson-Rubin (1949) confidence set for one endogenous regressor and one instrument, robust to
  heteroskedasticity/clustering: {b : (pi_y - b pi_x)^2 <= q (V_yy - 2 b V_yx + b^2 V_xx)}, a
  quadratic inequality whose solution is an interval, the real line, two half-lines or empty.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from wwvw.estimation import distributions as dist

from .linear import as_matrix, ols, two_stage_least_squares, wald_statistic
from .variance import MomentFit, sandwich_vcov, stacked_sandwich_vcov

MOP_CRITICAL_VALUE_5PCT_TAU10 = 23.109  # simplified critical value, K_eff = 1 (MOP 2013)

# LMMP (2022) tF critical values c_0.05(F) at sqrt(F) = 2.0, 2.1, ..., 10.3
TF_SQRT_F_GRID = np.round(np.arange(20, 104) / 10, 1)
TF_CRITICAL_VALUES_5PCT = np.array(
    [
        18.66, 9.74, 7.37, 6.18, 5.43, 4.92, 4.54, 4.25, 4.01, 3.82,
        3.65, 3.51, 3.39, 3.29, 3.19, 3.11, 3.03, 2.97, 2.91, 2.85,
        2.80, 2.75, 2.71, 2.67, 2.63, 2.60, 2.57, 2.54, 2.51, 2.48,
        2.46, 2.43, 2.41, 2.39, 2.37, 2.35, 2.33, 2.32, 2.30, 2.29,
        2.27, 2.26, 2.24, 2.23, 2.22, 2.21, 2.20, 2.19, 2.17, 2.16,
        2.16, 2.15, 2.14, 2.13, 2.12, 2.11, 2.10, 2.10, 2.09, 2.08,
        2.08, 2.07, 2.06, 2.06, 2.05, 2.04, 2.04, 2.03, 2.03, 2.02,
        2.02, 2.01, 2.01, 2.00, 2.00, 1.99, 1.99, 1.99, 1.98, 1.98,
        1.97, 1.97, 1.97, 1.96,
    ]
)  # fmt: skip


# ----------------------------------------------------------------------------- first-stage F
def first_stage_f(
    endogenous: np.ndarray, instruments: np.ndarray, n_absorbed: int, clusters: np.ndarray | None
) -> float:
    """Robust Wald F of all excluded instruments in the first stage of one endogenous variable."""
    z = as_matrix(instruments)
    fit = ols(endogenous, z, [f"z{k}" for k in range(z.shape[1])], n_absorbed)
    return wald_statistic(fit.coef, sandwich_vcov(fit, clusters)) / z.shape[1]


def effective_f(
    first_stage: MomentFit, instruments: np.ndarray, clusters: np.ndarray | None
) -> float:
    """Montiel Olea-Pflueger effective F: pi'(Z'Z)pi / tr(V_pi Z'Z), Z with controls partialled."""
    z = as_matrix(instruments)
    gram = z.T @ z
    vcov = sandwich_vcov(first_stage, clusters)
    return float(first_stage.coef @ gram @ first_stage.coef / np.trace(vcov @ gram))


def mop_critical_value(alpha: float = 0.05, tau: float = 0.10, k_eff: float = 1.0) -> float:
    """Simplified MOP critical value: chi2_{K_eff}(K_eff / tau)^{-1}(1 - alpha) / K_eff."""
    return float(dist.ncx2_ppf(1 - alpha, k_eff, k_eff / tau) / k_eff)


def sanderson_windmeijer_f(
    endogenous: np.ndarray,
    instruments: np.ndarray,
    index: int,
    n_absorbed: int,
    clusters: np.ndarray | None,
) -> float:
    """Conditional first-stage F of endogenous column `index` given the others (SW 2016)."""
    x, z = as_matrix(endogenous), as_matrix(instruments)
    target, others = x[:, index], np.delete(x, index, axis=1)
    if others.shape[1]:
        names = [f"x{k}" for k in range(others.shape[1])]
        delta = two_stage_least_squares(target, others, z, names, n_absorbed).coef
        target = target - others @ delta
    degrees = z.shape[1] - x.shape[1] + 1
    return first_stage_f(target, z, n_absorbed, clusters) * z.shape[1] / degrees


# ----------------------------------------------------------------------------- tF
def tf_critical_value(f_statistic: float) -> float:
    """LMMP (2022) 5% tF critical value for a first-stage F (table, linear in sqrt(F)).

    Below the table (F < 4) the exact function is used; it is infinite for F <= 1.96^2, where no
    finite t-ratio interval has correct coverage. Above it (sqrt(F) >= 10.3) the value is 1.96.
    """
    if not np.isfinite(f_statistic):
        return float(TF_CRITICAL_VALUES_5PCT[-1])
    root = np.sqrt(max(f_statistic, 0.0))
    if root < TF_SQRT_F_GRID[0]:
        return tf_critical_value_exact(f_statistic)
    return float(np.interp(root, TF_SQRT_F_GRID, TF_CRITICAL_VALUES_5PCT))


def tf_critical_value_exact(f_statistic: float, alpha: float = 0.05) -> float:
    """The tF critical value function computed from its definition (LMMP 2022).

    Under the weak-instrument asymptotics with |rho| = 1 (the worst case) the first-stage t is
    f = f0 + z and the IV t-ratio is t = f z / f0, z ~ N(0, 1). c(F) is the function for which
    P(|t| > c(f^2)) = alpha for every f0 until c reaches the normal critical value; see
    `_tf_curve` for the construction.
    """
    normal = dist.norm_isf(alpha / 2)
    if f_statistic <= normal**2:
        return float("inf")
    roots, values = _tf_curve(alpha)
    return float(np.interp(np.sqrt(f_statistic), roots, values, right=normal))


@functools.lru_cache(maxsize=4)
def _tf_curve(alpha: float, step: float = 0.004, dx: float = 4e-3) -> tuple[np.ndarray, ...]:
    """(sqrt(F), c) pairs of the exact tF critical value function, by marching in f0.

    With |rho| = 1, t-ratio |t| = |f (f - f0)| / f0. For f > f0 the rejection event
    f (f - f0) > f0 c(f^2) is {f > f*(f0)} when c decreases, with c(f*^2) = f* (f* - f0) / f0.
    The remaining rejection probability (f < f0, where t is very negative or f has the wrong
    sign) only involves c at |f| < f0 < f*(smaller f0), already known when marching upwards in
    f0. So f*(f0) = f0 + Phi^{-1}(1 - alpha + other(f0)) pins down c point by point; c(F) is
    infinite for F <= z^2 and the march stops when c reaches z (at F = 104.7 for alpha = 5%).
    """
    normal = dist.norm_isf(alpha / 2)
    roots, values = [normal], [np.inf]
    f0 = 0.0
    while values[-1] > normal:
        f0 += step
        root = _self_consistent_root(f0, np.array(roots), np.array(values), alpha, dx)
        roots.append(root)
        values.append(root * (root - f0) / f0)
    values[-1] = normal
    roots, values = np.array(roots[1:]), np.array(values[1:])
    # discretisation wobbles f* by < 0.003 near F = z^2 (c > 100 there); keep a monotone curve
    increasing = roots > np.maximum.accumulate(np.concatenate([[-np.inf], roots[:-1]]))
    return roots[increasing], values[increasing]


def _self_consistent_root(f0, roots, values, alpha, dx, tol=1e-12) -> float:
    """f*(f0) solving 1 - Phi(f* - f0) + other(f0) = alpha, with (f*, c(f*)) itself on the curve.

    Including the candidate point matters only at the start of the march (f0 near 0), where the
    rejection region for negative f reaches magnitudes not yet on the curve.
    """
    normal = roots[0]
    root = f0 + normal
    for _ in range(100):
        curve_roots = np.append(roots, root)
        curve_values = np.append(values, root * (root - f0) / f0)
        other = _lower_rejection_probability(f0, curve_roots, curve_values, normal, dx)
        updated = f0 + dist.norm_isf(alpha - other)
        if abs(updated - root) < tol:
            break
        root = updated
    return float(updated)


def _lower_rejection_probability(f0, roots, values, normal, dx) -> float:
    """P(f < f0 and |f (f - f0)| > f0 c(f^2)) for f ~ N(f0, 1), with c known on `roots`."""
    f = np.arange(f0 - 10.0, f0, dx)
    magnitude = np.abs(f)
    finite = np.isfinite(values)
    c = np.interp(magnitude, roots[finite], values[finite]) if finite.any() else np.inf
    c = np.where(magnitude <= normal, np.inf, c)
    c = np.minimum(c, 1e12)  # 'never reject' without inf * 0 in the gap below
    gap = magnitude * np.abs(f - f0) - f0 * c
    return _mass_where_positive(f, gap, f0)


def _mass_where_positive(grid: np.ndarray, gap: np.ndarray, mean: float) -> float:
    """N(mean, 1) probability of {gap > 0}, with sign changes located by linear interpolation."""
    positive = gap > 0
    change = np.flatnonzero(positive[1:] != positive[:-1])
    crossing = grid[change] - gap[change] * (grid[change + 1] - grid[change]) / (
        gap[change + 1] - gap[change]
    )
    edges = np.concatenate([grid[:1][positive[:1]], crossing, grid[-1:][positive[-1:]]])
    lower, upper = edges[0::2], edges[1::2]
    return float(np.sum(dist.norm_cdf(upper - mean) - dist.norm_cdf(lower - mean)))


def tf_interval(coef: float, se: float, f_statistic: float) -> tuple[float, float, float]:
    """(low, high, critical value) of the 95% tF interval coef -+ c(F) se."""
    critical = tf_critical_value(f_statistic)
    if not np.isfinite(critical):
        return -np.inf, np.inf, critical
    return coef - critical * se, coef + critical * se, critical


# ----------------------------------------------------------------------------- Anderson-Rubin
@dataclass(frozen=True)
class ConfidenceSet:
    """A union of closed intervals on the real line (endpoints may be infinite)."""

    kind: str  # bounded, unbounded, disjoint or empty
    intervals: tuple[tuple[float, float], ...]

    @property
    def hull(self) -> tuple[float, float]:
        """Smallest interval containing the set (NaN, NaN if empty)."""
        if not self.intervals:
            return float("nan"), float("nan")
        return self.intervals[0][0], self.intervals[-1][1]

    @property
    def gap(self) -> tuple[float, float] | None:
        """The excluded interval between the two half-lines of a disjoint set."""
        if self.kind != "disjoint":
            return None
        return self.intervals[0][1], self.intervals[1][0]

    def contains(self, value: float) -> bool:
        return any(low <= value <= high for low, high in self.intervals)

    def describe(self) -> str:
        if not self.intervals:
            return "empty"
        return " U ".join(f"[{low:.4g}, {high:.4g}]" for low, high in self.intervals)


def quadratic_solution_set(a: float, b: float, c: float, tol: float = 1e-12) -> ConfidenceSet:
    """{x : a x^2 + b x + c <= 0} as a ConfidenceSet."""
    inf = float("inf")
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    if abs(a) <= tol * scale:
        if abs(b) <= tol * scale:
            return (
                ConfidenceSet("unbounded", ((-inf, inf),)) if c <= 0 else ConfidenceSet("empty", ())
            )
        root = -c / b
        return ConfidenceSet("unbounded", ((-inf, root),) if b > 0 else ((root, inf),))
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return ConfidenceSet("empty", ()) if a > 0 else ConfidenceSet("unbounded", ((-inf, inf),))
    low, high = sorted(
        ((-b - np.sqrt(discriminant)) / (2 * a), (-b + np.sqrt(discriminant)) / (2 * a))
    )
    if a > 0:
        return ConfidenceSet("bounded", ((low, high),))
    return ConfidenceSet("disjoint", ((-inf, low), (high, inf)))


def anderson_rubin_set(
    reduced_form: MomentFit,
    first_stage: MomentFit,
    clusters: np.ndarray | None,
    alpha: float = 0.05,
) -> ConfidenceSet:
    """Robust AR confidence set for one endogenous variable and one instrument.

    AR(b) = (pi_y - b pi_x)^2 / (V_yy - 2 b V_yx + b^2 V_xx): the robust t^2 of the instrument in
    the regression of y - b x on it, since its coefficient is pi_y - b pi_x and its scores are
    the difference of the reduced-form and first-stage scores. Accept b if AR(b) <= chi2_1(1-a).
    """
    if reduced_form.coef.size != 1 or first_stage.coef.size != 1:
        raise ValueError("the analytic AR set is implemented for one instrument")
    vcov = stacked_sandwich_vcov([reduced_form, first_stage], clusters)
    pi_y, pi_x = float(reduced_form.coef[0]), float(first_stage.coef[0])
    q = dist.chi2_ppf(1 - alpha, 1)
    return quadratic_solution_set(
        a=pi_x**2 - q * vcov[1, 1],
        b=-2 * (pi_x * pi_y - q * vcov[0, 1]),
        c=pi_y**2 - q * vcov[0, 0],
    )


def anderson_rubin_statistic(
    reduced_form: MomentFit, first_stage: MomentFit, clusters: np.ndarray | None, value: float
) -> float:
    """AR(b) at one hypothesised value (for checks and plots)."""
    vcov = stacked_sandwich_vcov([reduced_form, first_stage], clusters)
    gap = float(reduced_form.coef[0] - value * first_stage.coef[0])
    variance = vcov[0, 0] - 2 * value * vcov[0, 1] + value**2 * vcov[1, 1]
    return gap**2 / variance
