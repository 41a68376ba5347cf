"""Leniency instruments: leave-one-out and split-sample propensities, minimum caseload."""

import numpy as np
import polars as pl
import pytest
from wwvw.estimation import instruments
from wwvw.estimation.fixed_effects import demean_within_groups
from wwvw.estimation.matrices import department_dummies, group_codes
from wwvw.estimation.simulate import simulate_cohort
from wwvw.synthetic.design import Design

SMALL_DESIGN = Design(locations=("Noord", "Zuid"), caseworkers_per_location=4)


@pytest.fixture(scope="module")
def small_cohort() -> pl.DataFrame:
    return simulate_cohort(11, n_clients=200, design=SMALL_DESIGN)


def caseworker_regression_without(target: np.ndarray, caseworkers: np.ndarray, i: int) -> float:
    """Brute force: regress target on caseworker dummies without row i, predict row i."""
    dummies = (caseworkers[:, None] == np.unique(caseworkers)[None, :]).astype(float)
    keep = np.arange(target.size) != i
    coef, *_ = np.linalg.lstsq(dummies[keep], target[keep], rcond=None)
    return float(dummies[i] @ coef)


@pytest.mark.parametrize("residualised", [False, True])
def test_leave_one_out_propensity_is_jive_fit_without_the_client(small_cohort, residualised):
    propensities = instruments.leave_one_out_propensities(
        small_cohort, ("matching", "activering"), residualised=residualised
    )
    caseworkers, _ = group_codes(small_cohort["caseworker"])
    targets = department_dummies(small_cohort, ("matching", "activering"))
    if residualised:
        targets = demean_within_groups(targets, group_codes(small_cohort["cell"])[0])
    for k in range(2):
        brute = [caseworker_regression_without(targets[:, k], caseworkers, i) for i in range(200)]
        np.testing.assert_allclose(propensities[:, k], brute, rtol=0, atol=1e-12)


def test_residualised_propensity_differs_from_raw(small_cohort):
    raw = instruments.leave_one_out_propensities(small_cohort, ("matching",), residualised=False)
    res = instruments.leave_one_out_propensities(small_cohort, ("matching",), residualised=True)
    assert np.abs(raw - res).max() > 0.01


def test_split_sample_propensity_uses_only_the_other_half(small_cohort):
    seed = 5
    values = instruments.split_sample_propensities(small_cohort, ("matching",), seed=seed)[:, 0]
    half = instruments.random_halves(small_cohort.height, seed)
    target = demean_within_groups(
        department_dummies(small_cohort, ("matching",))[:, 0],
        group_codes(small_cohort["cell"])[0],
    )
    caseworker = small_cohort["caseworker"].to_numpy()
    for i in range(small_cohort.height):
        donors = (caseworker == caseworker[i]) & (half != half[i])
        expected = target[donors].mean() if donors.any() else np.nan
        np.testing.assert_allclose(values[i], expected, atol=1e-12)
    assert half.sum() == small_cohort.height // 2


def test_split_sample_is_deterministic_in_the_seed(small_cohort):
    a = instruments.add_propensities(small_cohort, kind="split_sample", seed=1)
    b = instruments.add_propensities(small_cohort, kind="split_sample", seed=1)
    c = instruments.add_propensities(small_cohort, kind="split_sample", seed=2)
    assert a.equals(b)
    assert not a["propensity_matching"].equals(c["propensity_matching"])


def test_drop_small_caseloads_removes_every_client_of_small_caseworkers():
    frame = pl.DataFrame({"caseworker": ["a"] * 5 + ["b"] * 2 + ["c"] * 3, "x": range(10)})
    kept = instruments.drop_small_caseloads(frame, 3)
    assert sorted(set(kept["caseworker"])) == ["a", "c"]
    assert kept.height == 8


def test_leave_one_out_mean_of_a_singleton_is_undefined():
    values = instruments.leave_one_out_mean(np.array([1.0, 0.0, 1.0]), np.array([0, 0, 1]))
    np.testing.assert_allclose(values[:2], [0.0, 1.0])
    assert np.isnan(values[2])


def test_unknown_instrument_kind_is_rejected(small_cohort):
    with pytest.raises(ValueError, match="unknown instrument kind"):
        instruments.add_propensities(small_cohort, kind="loo")
