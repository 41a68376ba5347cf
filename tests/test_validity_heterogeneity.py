"""Subgroup effects: the planted effect in every subgroup, heterogeneity found when planted."""

import numpy as np
import polars as pl
import pytest
from validity_helpers import MODERATE
from wwvw.estimation.distributions import norm_isf
from wwvw.estimation.simulate import simulate_cohort
from wwvw.synthetic.design import Design
from wwvw.validity.heterogeneity import (
    HETEROGENEITY_SCHEMA,
    family_correlation,
    heterogeneity_table,
    normal_draws,
    romano_wolf,
    subgroup_estimates,
)
from wwvw.validity.inference import holm
from wwvw.validity.samples import build_sample, subgroups

SHARED_COLUMNS = [
    "characteristic",
    "level",
    "treatment",
    "estimator",
    "coef",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "pvalue_romano_wolf",
    "n",
    "n_clusters",
]
TRUTH = {"matching": 0.10, "activering": 0.0}


@pytest.fixture(scope="module")
def homogeneous():
    sample = build_sample(simulate_cohort(41, design=MODERATE))
    return heterogeneity_table(sample, ["sex", "age_group", "debts"], 100, replications=999)


UNDER_45 = Design(
    effect_max_age=45, effects={"matching": 0.25, "prematching": 0.0, "activering": 0.0}
)


@pytest.fixture(scope="module")
def under_45():
    """Effect of Matching (0.25) only for clients younger than 45; ages 45-64 get nothing."""
    cohort = simulate_cohort(42, n_clients=20000, design=UNDER_45)
    sample = build_sample(cohort)
    return heterogeneity_table(sample, ["age_group"], 100, replications=999)


def test_schema_shared_with_the_figures(homogeneous):
    assert homogeneous.columns[: len(SHARED_COLUMNS)] == SHARED_COLUMNS
    assert homogeneous.schema == pl.Schema(HETEROGENEITY_SCHEMA)
    assert set(homogeneous["row"]) == {"overall", "subgroup", "equality_test"}


def test_planted_effect_found_in_every_subgroup_and_no_heterogeneity(homogeneous):
    """Across many subgroups some 95% intervals miss by chance; the simultaneous band from the
    multiplier bootstrap covers the planted effect in all of them, and the equality tests
    (adjusted for their number) do not reject."""
    subgroups = homogeneous.filter(pl.col("row") == "subgroup")
    truth = pl.col("treatment").replace_strict(TRUTH, return_dtype=pl.Float64)
    inside = (pl.col("ci_low_simultaneous") <= truth) & (truth <= pl.col("ci_high_simultaneous"))
    assert subgroups.select(inside).to_series().all()
    pointwise = (pl.col("ci_low") <= truth) & (truth <= pl.col("ci_high"))
    assert subgroups.select(pointwise).to_series().mean() >= 0.8
    tests = homogeneous.filter(pl.col("row") == "equality_test")
    assert tests.height == 2 * 2 * 3  # estimators x treatments x characteristics
    assert (tests.filter(pl.col("treatment") == "matching")["pvalue_holm"] > 0.05).all()
    p = subgroups["pvalue_romano_wolf"]
    assert p.is_between(0, 1).all() and (p >= subgroups["pvalue"] - 0.05).all()


def test_subgroup_analysis_finds_an_effect_planted_only_for_the_young(under_45):
    matching = under_45.filter(pl.col("treatment") == "matching")
    for estimator in ("2sls", "ujive"):
        rows = matching.filter(pl.col("estimator") == estimator)
        test = rows.filter(pl.col("row") == "equality_test").row(0, named=True)
        assert test["pvalue"] < 0.001, estimator
        subgroups = rows.filter(pl.col("row") == "subgroup").iter_rows(named=True)
        by_level = {r["level"]: r for r in subgroups}
        assert by_level["30-45"]["ci_low"] > 0, estimator
        assert by_level["18-30"]["coef"] > 0.1, estimator
        for old in ("45-55", "55-65"):
            assert by_level[old]["ci_low"] <= 0.0 <= by_level[old]["ci_high"], (estimator, old)
        assert by_level["30-45"]["pvalue_romano_wolf"] <= 0.01


def test_romano_wolf_is_a_step_down_max_t():
    rng = np.random.default_rng(0)
    t_boot = np.abs(rng.normal(size=(999, 4)))
    t_obs = np.array([4.0, 2.2, 1.0, 0.1])
    adjusted = romano_wolf(t_obs, t_boot)
    single_step = [(1 + np.sum(t_boot.max(axis=1) >= t)) / 1000 for t in t_obs]
    assert adjusted[0] == pytest.approx(single_step[0])  # the largest |t| faces the full max
    assert np.all(adjusted <= np.array(single_step) + 1e-12)  # step-down is never worse
    assert np.all(np.diff(adjusted) >= 0)  # monotone in |t|
    raw = [(1 + np.sum(t_boot[:, k] >= t)) / 1000 for k, t in enumerate(t_obs)]
    assert np.all(adjusted >= np.array(raw) - 1e-12)


def test_holm():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])


def test_max_t_critical_value_between_independent_and_identical_estimates():
    """Three independent estimates need the Sidak value; three identical ones the pointwise 1.96."""
    independent = normal_draws(np.eye(3), 20000, 1).max(axis=1)
    sidak = float(norm_isf((1 - 0.95 ** (1 / 3)) / 2))
    assert np.quantile(independent, 0.95) == pytest.approx(sidak, abs=0.04)
    identical = normal_draws(np.ones((3, 3)), 20000, 1)
    np.testing.assert_allclose(identical[:, 0], identical[:, 2], atol=1e-6)
    assert np.quantile(identical.max(axis=1), 0.95) == pytest.approx(1.96, abs=0.04)


def test_subgroup_correlation_from_shared_clients_or_caseworkers():
    """Robust errors: levels of one characteristic share no client, so their estimates are
    uncorrelated, while overlapping subgroups (women, the young) are; clustered errors: levels
    share caseworkers, so they covary."""
    sample = build_sample(simulate_cohort(41, design=MODERATE))
    groups, _ = subgroups(sample, ["sex", "age_group"], 100)
    labels = [g.label for g in groups]
    for se_type, disjoint_zero in (("hetero", True), ("cluster:caseworker", False)):
        fits = subgroup_estimates(sample, groups, ["2sls"], 2, se_type)
        usable, correlation = family_correlation(sample, fits, "2sls", labels, se_type)["matching"]
        assert usable == labels
        np.testing.assert_allclose(np.diag(correlation), 1.0)
        sex = [k for k, g in enumerate(groups) if g.characteristic == "sex"]
        age = [k for k, g in enumerate(groups) if g.characteristic == "age_group"]
        across_levels = correlation[sex[0], sex[1]]
        assert (abs(across_levels) < 1e-12) == disjoint_zero, se_type
        assert np.all(np.abs(correlation[np.ix_(sex, age)]) > 0.01)


def test_standard_error_type_changes_errors_not_estimates(homogeneous):
    sample = build_sample(simulate_cohort(41, design=MODERATE))
    clustered = heterogeneity_table(
        sample, ["sex", "age_group", "debts"], 100, replications=0, se_type="cluster:caseworker"
    )
    key = ["row", "characteristic", "level", "treatment", "estimator"]
    both = homogeneous.join(clustered, on=key, suffix="_clustered")
    subgroups = both.filter(pl.col("row") == "subgroup")
    np.testing.assert_allclose(subgroups["coef"], subgroups["coef_clustered"])
    assert (subgroups["se"] != subgroups["se_clustered"]).all()
    with pytest.raises(ValueError, match="unknown se_type 'cluster:cell'"):
        heterogeneity_table(sample, ["sex"], 100, replications=0, se_type="cluster:cell")
