"""Split-sample propensities of the design checks: a client's instrument uses the other half only,
and the validity sample drops one-client cells like the estimation sample."""

import numpy as np
import polars as pl
import pytest
from wwvw.estimation.instruments import random_halves
from wwvw.estimation.simulate import simulate_cohort
from wwvw.synthetic.design import Design
from wwvw.validity.balance import permutation_test
from wwvw.validity.multi_treatment import split_half_propensities
from wwvw.validity.samples import build_sample, propensities_for, propensity_targets

SMALL_DESIGN = Design(locations=("Noord", "Zuid"), caseworkers_per_location=4)
SEED = 3


@pytest.fixture(scope="module")
def cohort() -> pl.DataFrame:
    return simulate_cohort(12, n_clients=300, design=SMALL_DESIGN)


def with_department_changed(cohort: pl.DataFrame, client: int) -> pl.DataFrame:
    department = cohort["department"].to_list()
    department[client] = "matching" if department[client] != "matching" else "prematching"
    return cohort.with_columns(pl.Series("department", department))


@pytest.mark.parametrize("client", [0, 41, 250])
def test_split_sample_propensities_of_a_half_ignore_that_halfs_referrals(cohort, client):
    before = build_sample(cohort, instruments="split_sample", split_seed=SEED)
    after = build_sample(
        with_department_changed(cohort, client), instruments="split_sample", split_seed=SEED
    )
    assert before.n == cohort.height and before.frame["person_id"].equals(after.frame["person_id"])
    half = random_halves(before.n, SEED)
    same = half == half[client]
    z_before = propensities_for(before, before.caseworkers)
    z_after = propensities_for(after, after.caseworkers)
    np.testing.assert_array_equal(z_after[same], z_before[same])
    assert np.abs(z_after[~same] - z_before[~same]).max() > 0
    own_before, other_before = split_half_propensities(before, SEED)
    own_after, other_after = split_half_propensities(after, SEED)
    # other-half propensities use the other half only, own-half ones the own half only
    np.testing.assert_array_equal(other_after[same], other_before[same])
    np.testing.assert_array_equal(own_after[~same], own_before[~same])


def test_recomputed_split_sample_propensities_are_those_of_the_sample(cohort):
    """propensities_for (used by the permutation test with precomputed targets) reproduces the
    instrument of wwvw.estimation.instruments, with the sample's halves."""
    sample = build_sample(cohort, instruments="split_sample", split_seed=SEED)
    assert sample.split_seed == SEED
    expected = sample.propensities
    np.testing.assert_allclose(propensities_for(sample, sample.caseworkers), expected, atol=1e-12)
    targets = propensity_targets(sample)
    recomputed = propensities_for(sample, sample.caseworkers, SEED, targets=targets)
    np.testing.assert_allclose(recomputed, expected, atol=1e-12)
    table = permutation_test(sample, draws=3, seed=0)
    assert table["observed"].is_finite().all()


def test_the_validity_sample_drops_a_client_alone_in_its_cell(cohort):
    moved = cohort.with_columns(
        cell=pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("new_cell")).otherwise("cell")
    )
    assert build_sample(moved).n == build_sample(cohort).n - 1
