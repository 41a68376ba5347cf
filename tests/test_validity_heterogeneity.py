"""Subgroup effects: the planted effect in every subgroup, heterogeneity found when planted."""

import numpy as np
import polars as pl
import pytest
from validity_helpers import MODERATE
from wwvw.estimation.simulate import simulate_cohort
from wwvw.synthetic.design import Design
from wwvw.validity.heterogeneity import (
    HETEROGENEITY_SCHEMA,
    heterogeneity_table,
    resample_caseworkers,
    romano_wolf,
)
from wwvw.validity.inference import holm
from wwvw.validity.samples import build_sample

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
    return heterogeneity_table(
        sample, ["sex", "age_group", "debts"], 100, replications=19, processes=2
    )


UNDER_45 = Design(
    effect_max_age=45, effects={"matching": 0.25, "prematching": 0.0, "activering": 0.0}
)


@pytest.fixture(scope="module")
def under_45():
    """Effect of Matching (0.25) only for clients younger than 45; ages 45-64 get nothing."""
    cohort = simulate_cohort(42, n_clients=20000, design=UNDER_45)
    sample = build_sample(cohort)
    return heterogeneity_table(sample, ["age_group"], 100, replications=19, processes=2)


def test_schema_shared_with_the_figures(homogeneous):
    assert homogeneous.columns[: len(SHARED_COLUMNS)] == SHARED_COLUMNS
    assert homogeneous.schema == pl.Schema(HETEROGENEITY_SCHEMA)
    assert set(homogeneous["row"]) == {"overall", "subgroup", "equality_test"}


def test_planted_effect_found_in_every_subgroup_and_no_heterogeneity(homogeneous):
    """Across many subgroups some 95% intervals miss by chance; the simultaneous band from the
    caseworker bootstrap covers the planted effect in all of them, and the equality tests
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
        assert (
            by_level["30-45"]["pvalue_romano_wolf"] <= 0.05
        )  # the smallest possible with 19 draws


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


def test_cluster_bootstrap_keeps_caseworkers_whole():
    cohort = simulate_cohort(43, n_clients=600)
    draw = resample_caseworkers(cohort, np.random.default_rng(1))
    sizes = cohort.group_by("caseworker").len()
    drawn = (
        draw.with_columns(source=pl.col("caseworker").str.split("#").list.first())
        .group_by("caseworker", "source")
        .len()
    )
    assert drawn.height == sizes.height  # as many caseworkers as in the cohort
    joined = drawn.join(sizes, left_on="source", right_on="caseworker", suffix="_original")
    assert (joined["len"] == joined["len_original"]).all()


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
