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
    """Brute force: the mean over the caseworker's clients in the other half of their referral
    net of the mean referral of their cell in that (their own) half."""
    seed = 5
    values = instruments.split_sample_propensities(small_cohort, ("matching",), seed=seed)[:, 0]
    half = instruments.random_halves(small_cohort.height, seed)
    referred = department_dummies(small_cohort, ("matching",))[:, 0]
    cell = small_cohort["cell"].to_numpy()
    caseworker = small_cohort["caseworker"].to_numpy()
    for i in range(small_cohort.height):
        donors = np.flatnonzero((caseworker == caseworker[i]) & (half != half[i]))
        targets = [
            referred[k] - referred[(cell == cell[k]) & (half == half[k])].mean() for k in donors
        ]
        expected = np.mean(targets) if donors.size else np.nan
        np.testing.assert_allclose(values[i], expected, atol=1e-12)
    assert half.sum() == small_cohort.height // 2


def other_department(department: str) -> str:
    return "matching" if department != "matching" else "prematching"


@pytest.mark.parametrize("client", [0, 7, 123])
@pytest.mark.parametrize("kind", ["split_sample", "split_sample_raw"])
def test_a_clients_referral_never_enters_an_instrument_of_its_own_half(small_cohort, client, kind):
    """The split-sample instrument of a client depends on the other half only: changing one
    client's department leaves every instrument of its half unchanged, its own included (the
    residualised kind used to leak it through the whole-sample cell means)."""
    seed = 3
    departments = ("matching", "activering")
    before = instruments.split_sample_propensities(
        small_cohort, departments, seed, residualised=kind == "split_sample"
    )
    department = small_cohort["department"].to_list()
    department[client] = other_department(department[client])
    changed = small_cohort.with_columns(pl.Series("department", department))
    after = instruments.split_sample_propensities(
        changed, departments, seed, residualised=kind == "split_sample"
    )
    half = instruments.random_halves(small_cohort.height, seed)
    same_half = half == half[client]
    np.testing.assert_array_equal(after[same_half], before[same_half])
    # the change does reach the other half (the test is not vacuous)
    assert np.nanmax(np.abs(after[~same_half] - before[~same_half])) > 0


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


def test_drop_small_groups_drops_one_client_cells_and_small_caseloads_until_stable():
    # row 8 is alone in cell y; without it caseworker c has 2 < 3 clients; without c, cells x and
    # w have one client each (rows 0 and 9 of a); without them a has 2 clients: only b is left
    frame = pl.DataFrame(
        {
            "caseworker": ["a", "a", "a", "b", "b", "b", "c", "c", "c", "a"],
            "cell": ["x", "z", "z", "z", "z", "z", "x", "w", "y", "w"],
            "row": range(10),
        }
    )
    assert instruments.drop_small_caseloads(frame, 3).height == 10
    kept = instruments.drop_small_groups(frame, 3)
    assert kept["row"].to_list() == [3, 4, 5]
    mask = instruments.usable_mask(
        group_codes(frame["caseworker"])[0], group_codes(frame["cell"])[0], 3
    )
    np.testing.assert_array_equal(np.flatnonzero(mask), [3, 4, 5])
    assert instruments.drop_small_groups(frame.clear(), 3).is_empty()


def test_drop_small_groups_changes_nothing_when_every_cell_is_large():
    cohort = simulate_cohort(0)
    assert cohort.group_by("cell").len()["len"].min() >= 2
    assert instruments.drop_small_groups(cohort, 2).equals(
        instruments.drop_small_caseloads(cohort, 2)
    )


def test_leave_one_out_mean_of_a_singleton_is_undefined():
    values = instruments.leave_one_out_mean(np.array([1.0, 0.0, 1.0]), np.array([0, 0, 1]))
    np.testing.assert_allclose(values[:2], [0.0, 1.0])
    assert np.isnan(values[2])


def test_unknown_instrument_kind_is_rejected(small_cohort):
    with pytest.raises(ValueError, match="unknown instrument kind"):
        instruments.add_propensities(small_cohort, kind="loo")
