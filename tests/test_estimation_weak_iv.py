"""Instrument strength and weak-IV-robust inference: F statistics, tF, Anderson-Rubin."""

import numpy as np
import pytest
from scipy import stats
from wwvw.estimation import weak_iv
from wwvw.estimation.linear import ols
from wwvw.estimation.simulate import simulate_cohort
from wwvw.estimation.specifications import (
    Specification,
    fit_models,
    prepare_sample,
)
from wwvw.estimation.variance import sandwich_vcov

Q95 = stats.chi2.ppf(0.95, 1)


# ----------------------------------------------------------------------------- tF
def test_tf_critical_value_golden_values():
    assert weak_iv.tf_critical_value(10.0) == pytest.approx(3.435, abs=1e-3)
    assert weak_iv.tf_critical_value(1e6) == pytest.approx(1.96, abs=1e-3)
    assert weak_iv.tf_critical_value(4.0) == pytest.approx(18.66, abs=1e-9)
    assert weak_iv.tf_critical_value(3.5) == np.inf  # below 1.96^2: unbounded intervals


def test_tf_table_is_the_exact_function_rounded_up():
    exact = np.array([weak_iv.tf_critical_value_exact(r * r) for r in weak_iv.TF_SQRT_F_GRID])
    np.testing.assert_array_equal(
        np.ceil(exact * 100 - 1e-9) / 100, weak_iv.TF_CRITICAL_VALUES_5PCT
    )
    # LMMP: a 5% t-test with 1.96 needs F > 104.7, and F = 10 needs 3.43
    assert weak_iv.tf_critical_value_exact(104.8) == pytest.approx(1.96, abs=1e-3)
    assert weak_iv.tf_critical_value_exact(104.0) > 1.9601
    assert weak_iv.tf_critical_value_exact(10.0) == pytest.approx(3.43, abs=1e-3)


def rejection_probability(critical_value, f0: float) -> float:
    """P(|t| > c(F)) with |rho| = 1: first-stage t f = f0 + z, IV t-ratio f z / f0 (LMMP)."""
    z = np.linspace(-9, 9, 12001)
    f = f0 + z
    c = np.array([critical_value(v) for v in f * f])
    reject = np.abs(f * z) / f0 > c
    return float(np.trapezoid(reject * stats.norm.pdf(z), z))


def test_tf_controls_size_in_the_worst_case_where_1_96_does_not():
    f0_grid = [0.5, 1.5, 2.5, 3.5, 5.0, 8.0, 12.0]
    tf = [rejection_probability(weak_iv.tf_critical_value, f0) for f0 in f0_grid]
    naive = [rejection_probability(lambda _: 1.96, f0) for f0 in f0_grid]
    assert max(tf) < 0.0505
    assert max(naive) > 0.10


def test_tf_interval_scales_the_standard_error():
    low, high, c = weak_iv.tf_interval(0.2, 0.05, 10.0)
    assert (low, high) == pytest.approx((0.2 - c * 0.05, 0.2 + c * 0.05))
    assert weak_iv.tf_interval(0.2, 0.05, 2.0)[:2] == (-np.inf, np.inf)


# ----------------------------------------------------------------------------- effective F
def test_montiel_olea_pflueger_simplified_critical_values():
    assert weak_iv.mop_critical_value(0.05, 0.10, 1) == pytest.approx(23.109, abs=1e-3)
    assert weak_iv.mop_critical_value(0.05, 0.05, 1) == pytest.approx(37.418, abs=1e-3)
    assert weak_iv.mop_critical_value() == pytest.approx(
        weak_iv.MOP_CRITICAL_VALUE_5PCT_TAU10, abs=1e-3
    )


@pytest.fixture(scope="module")
def single_instrument():
    cohort = simulate_cohort(4, n_clients=3000)
    spec = Specification.from_mapping(
        {"name": "m", "treatments": ["matching"], "estimators": ["2sls"]}
    )
    sample = prepare_sample(cohort, spec)
    fits = {(f.model, f.estimator): f.fit for f in fit_models(sample, spec)}
    return sample, fits


def test_effective_f_equals_robust_first_stage_f_with_one_instrument(single_instrument):
    sample, fits = single_instrument
    p = sample.partialled
    for clusters in (None, sample.clusters["cluster:caseworker"]):
        first = fits[("first_stage", "ols")]
        t_squared = first.coef[0] ** 2 / sandwich_vcov(first, clusters)[0, 0]
        effective = weak_iv.effective_f(first, p["z"], clusters)
        robust = weak_iv.first_stage_f(p["x"][:, 0], p["z"], sample.controls.n_absorbed, clusters)
        assert effective == pytest.approx(t_squared, rel=1e-10)
        assert robust == pytest.approx(t_squared, rel=1e-10)


# ----------------------------------------------------------------------------- Sanderson-Windmeijer
def two_endogenous(rank_one: bool, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    common = z[:, 0] + z[:, 1]
    x1 = (common if rank_one else z[:, 0]) + rng.normal(size=n)
    x2 = (common if rank_one else z[:, 1]) + rng.normal(size=n)
    return np.column_stack([x1, x2]), z


def test_sanderson_windmeijer_f_detects_a_rank_deficient_first_stage():
    for rank_one in (True, False):
        x, z = two_endogenous(rank_one)
        ordinary = [weak_iv.first_stage_f(x[:, j], z, 0, None) for j in range(2)]
        conditional = [weak_iv.sanderson_windmeijer_f(x, z, j, 0, None) for j in range(2)]
        assert min(ordinary) > 500
        if rank_one:
            assert max(conditional) < 10
        else:
            assert min(conditional) > 500


def test_sanderson_windmeijer_f_with_one_endogenous_is_the_first_stage_f():
    x, z = two_endogenous(False)
    assert weak_iv.sanderson_windmeijer_f(x[:, :1], z, 0, 0, None) == pytest.approx(
        weak_iv.first_stage_f(x[:, 0], z, 0, None), rel=1e-12
    )


# ----------------------------------------------------------------------------- Anderson-Rubin
@pytest.mark.parametrize(
    ("a", "b", "c", "kind", "inside", "outside"),
    [
        (1.0, -2.0, -3.0, "bounded", [-1.0, 0.0, 3.0], [-1.1, 3.1]),  # (x-3)(x+1) <= 0
        (1.0, 0.0, 1.0, "empty", [], [0.0]),
        (-1.0, 0.0, -1.0, "unbounded", [-1e9, 0.0, 1e9], []),
        (-1.0, 2.0, 3.0, "disjoint", [-1e9, -1.0, 3.0, 1e9], [0.0, 2.9]),  # -(x-3)(x+1) <= 0
        (0.0, 2.0, -4.0, "unbounded", [-1e9, 2.0], [2.1]),  # 2x - 4 <= 0
    ],
)
def test_quadratic_solution_sets(a, b, c, kind, inside, outside):
    solution = weak_iv.quadratic_solution_set(a, b, c)
    assert solution.kind == kind
    assert all(solution.contains(v) for v in inside)
    assert not any(solution.contains(v) for v in outside)


def anderson_rubin_pieces(sample, instrument):
    n_absorbed = sample.controls.n_absorbed
    reduced = ols(sample.partialled["y"], instrument, ["z"], n_absorbed)
    first = ols(sample.partialled["x"][:, 0], instrument, ["z"], n_absorbed)
    return reduced, first


@pytest.mark.parametrize("strength", ["strong", "irrelevant"])
def test_anderson_rubin_set_inverts_the_ar_test(single_instrument, strength):
    sample, _ = single_instrument
    clusters = sample.clusters["cluster:caseworker"]
    instrument = sample.partialled["z"][:, 0]
    if strength == "irrelevant":  # an instrument unrelated to anything: AR set is unbounded
        noise = np.random.default_rng(1).normal(size=(sample.n, 1))
        instrument = sample.controls.residualise(noise)[:, 0]
    reduced, first = anderson_rubin_pieces(sample, instrument)
    ar_set = weak_iv.anderson_rubin_set(reduced, first, clusters)
    # bounded exactly when the first stage is significant at 5% (the t^2 of its coefficient
    # exceeds the chi2(1) critical value); a strong instrument always is
    first_t2 = first.coef[0] ** 2 / sandwich_vcov(first, clusters)[0, 0]
    assert (ar_set.kind == "bounded") == (first_t2 > Q95)
    if strength == "strong":
        assert ar_set.kind == "bounded"
    for value in np.linspace(-3, 3, 601):
        statistic = weak_iv.anderson_rubin_statistic(reduced, first, clusters, value)
        assert ar_set.contains(value) == (statistic <= Q95 + 1e-9), value
    if ar_set.kind == "bounded":
        for end in ar_set.hull:
            assert weak_iv.anderson_rubin_statistic(reduced, first, clusters, end) == pytest.approx(
                Q95, rel=1e-8
            )


def test_anderson_rubin_needs_a_single_instrument(single_instrument):
    sample, _ = single_instrument
    two = np.column_stack([sample.partialled["z"][:, 0]] * 2) + np.eye(sample.n, 2)
    reduced = ols(sample.partialled["y"], two, ["a", "b"], 0)
    with pytest.raises(ValueError, match="one instrument"):
        weak_iv.anderson_rubin_set(reduced, reduced, None)
