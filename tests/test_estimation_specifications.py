"""run_specifications on simulated cohorts: the estimates contract, diagnostics, recovery."""

import re
import time

import numpy as np
import polars as pl
import pytest
from wwvw.estimation import instruments
from wwvw.estimation.simulate import simulate_cohort
from wwvw.estimation.specifications import (
    Specification,
    mark_headline,
    prepare_sample,
    run_specifications,
)
from wwvw.estimation.variance import SE_TYPES

CONTRACT_COLUMNS = [
    "model",
    "estimator",
    "specification",
    "treatment",
    "regressor",
    "subgroup",
    "coef",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "se_type",
    "n",
    "n_clusters",
    "headline",
]
COHORT_SCHEMA = {
    "person_id": pl.String,
    "caseworker": pl.String,
    "location": pl.String,
    "intake_period": pl.String,
    "cell": pl.String,
    "department": pl.String,
    "outcome": pl.Boolean,
    "sex": pl.String,
    "age": pl.Int64,
    "age_group": pl.String,
    "education": pl.String,
    "work_history": pl.String,
    "migration": pl.String,
    "chronic": pl.String,
    "debts": pl.Boolean,
    "single": pl.Boolean,
    "children": pl.Boolean,
}
SPECIFICATIONS = [
    {"name": "joint_cov", "treatments": ["matching", "activering"], "covariates": True},
    {
        "name": "matching_vs_rest_cov",
        "treatments": ["matching"],
        "instruments": "loo_residualised",
        "covariates": True,
    },
    {
        "name": "joint_raw_nocov",
        "treatments": ["matching", "activering"],
        "instruments": "loo_raw",
        "covariates": False,
        "estimators": ["2sls", "ujive", "jive1"],
    },
]
PLANTED = {"matching": 0.10, "activering": 0.0}


@pytest.fixture(scope="module")
def results():
    return run_specifications(simulate_cohort(0), SPECIFICATIONS)


# ----------------------------------------------------------------------------- simulator
def test_simulated_cohort_has_the_cohort_schema_and_is_fast():
    started = time.perf_counter()
    cohort = simulate_cohort(21, n_clients=6000)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert dict(cohort.schema) == COHORT_SCHEMA
    assert cohort.height == 6000 and cohort["person_id"].n_unique() == 6000
    assert cohort["caseworker"].n_unique() == 60
    assert cohort["cell"].n_unique() == 24  # 4 locations x intake quarters 2015Q1..2016Q2
    shares = cohort["department"].value_counts(normalize=True)
    matching = shares.filter(pl.col("department") == "matching")["proportion"].item()
    assert matching == pytest.approx(2888 / 5988, abs=0.01)
    assert simulate_cohort(21, n_clients=500).equals(simulate_cohort(21, n_clients=500))


def test_caseworkers_are_assigned_within_their_location():
    cohort = simulate_cohort(22)
    locations_per_caseworker = cohort.group_by("caseworker").agg(pl.col("location").n_unique())
    assert locations_per_caseworker["location"].max() == 1


# ----------------------------------------------------------------------------- contract
def test_estimates_follow_the_contract(results):
    estimates, _ = results
    assert estimates.columns == CONTRACT_COLUMNS
    assert set(estimates["se_type"]) == set(SE_TYPES)
    assert set(estimates["model"]) == {"ols", "first_stage", "reduced_form", "iv"}
    assert set(estimates["estimator"]) == {"ols", "2sls", "ujive", "jive1"}
    assert set(estimates["subgroup"]) == {"all"}
    assert (estimates["ci_low"] < estimates["coef"]).all()
    assert (estimates["coef"] < estimates["ci_high"]).all()
    clusters = estimates.group_by("se_type").agg(pl.col("n_clusters").unique())
    by_type = dict(zip(clusters["se_type"], clusters["n_clusters"].to_list(), strict=True))
    assert by_type["cluster:caseworker"] == [60]
    assert by_type["cluster:client"] == [6000]
    assert by_type["hetero"] == [None]


def test_cross_first_stage_table_has_every_treatment_on_every_instrument(results):
    estimates, _ = results
    table = estimates.filter(
        (pl.col("model") == "first_stage")
        & (pl.col("specification") == "joint_cov")
        & (pl.col("se_type") == "cluster:caseworker")
    )
    assert table.height == 4
    assert set(zip(table["treatment"], table["regressor"], strict=True)) == {
        (t, f"propensity_{r}") for t in PLANTED for r in PLANTED
    }
    own = table.filter(pl.col("regressor") == "propensity_" + pl.col("treatment"))
    assert (own["coef"] > 0.5).all()


def test_exactly_one_headline_row_per_treatment(results):
    estimates, _ = results
    headline = estimates.filter(pl.col("headline"))
    assert sorted(headline["treatment"]) == ["activering", "matching"]
    assert set(headline["specification"]) == {"joint_cov"}
    assert set(headline["estimator"]) == {"ujive"}
    assert set(headline["se_type"]) == {"hetero"}
    assert set(headline["model"]) == {"iv"}


def test_headline_flag_moves_the_headline():
    flagged = [dict(s) for s in SPECIFICATIONS[:2]]
    flagged[1]["headline"] = True
    estimates, _ = run_specifications(simulate_cohort(1, n_clients=2000), flagged)
    headline = estimates.filter(pl.col("headline"))
    assert headline["specification"].to_list() == ["matching_vs_rest_cov"]


def test_headline_standard_error_type_is_a_setting(results):
    estimates, _ = results
    chosen = {"matching": "joint_cov", "activering": "joint_cov"}
    clustered = mark_headline(estimates, chosen, "cluster:caseworker").filter(pl.col("headline"))
    robust = estimates.filter(pl.col("headline"))
    assert set(clustered["se_type"]) == {"cluster:caseworker"}
    # same point estimates, other intervals
    assert (
        clustered.sort("treatment")["coef"].to_list() == robust.sort("treatment")["coef"].to_list()
    )
    assert clustered.sort("treatment")["se"].to_list() != robust.sort("treatment")["se"].to_list()
    with pytest.raises(ValueError, match="unknown headline se_type 'cluster:location'"):
        mark_headline(estimates, chosen, "cluster:location")


def test_diagnostics_are_keyed_by_specification_and_treatment(results):
    estimates, diagnostics = results
    keys = diagnostics.select("specification", "treatment")
    assert keys.height == keys.unique().height == 5
    single = diagnostics.filter(pl.col("specification") == "matching_vs_rest_cov").row(
        0, named=True
    )
    assert single["effective_f"] == pytest.approx(single["first_stage_f"])
    assert (
        single["effective_f"]
        > single["effective_f_critical_5pct_tau10"]
        == pytest.approx(23.109, abs=1e-3)
    )
    tsls = estimates.filter(
        (pl.col("specification") == "matching_vs_rest_cov")
        & (pl.col("estimator") == "2sls")
        & (pl.col("se_type") == "cluster:caseworker")
    ).row(0, named=True)
    assert single["tf_ci_low"] == pytest.approx(
        tsls["coef"] - single["tf_critical_value"] * tsls["se"]
    )
    assert single["ar_set_type"] == "bounded"
    assert single["ar_ci_low"] < tsls["coef"] < single["ar_ci_high"]
    joint = diagnostics.filter(pl.col("specification") == "joint_cov")
    assert joint["effective_f"].is_null().all() and joint["ar_set_type"].is_null().all()
    assert (joint["sanderson_windmeijer_f"] > 10).all() and (joint["first_stage_f"] > 10).all()


# ----------------------------------------------------------------------------- recovery
def headline_and_ols(estimates: pl.DataFrame, treatment: str) -> tuple[dict, dict]:
    clustered = estimates.filter(
        (pl.col("treatment") == treatment)
        & (pl.col("regressor") == treatment)
        & (pl.col("se_type") == "cluster:caseworker")
        & (pl.col("specification") == "joint_cov")
    )
    ujive = clustered.filter(pl.col("estimator") == "ujive").row(0, named=True)
    naive = clustered.filter(pl.col("model") == "ols").row(0, named=True)
    return ujive, naive


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_ujive_covers_the_planted_effects_where_ols_does_not(seed):
    """Fixed seeds: a 95% interval misses the truth for about 1 seed in 20 (seed 2 is one)."""
    estimates, _ = run_specifications(simulate_cohort(seed), SPECIFICATIONS[:1])
    for treatment, effect in PLANTED.items():
        ujive, _ = headline_and_ols(estimates, treatment)
        assert ujive["ci_low"] <= effect <= ujive["ci_high"], (treatment, ujive)
        assert ujive["se"] < 0.1
    _, naive = headline_and_ols(estimates, "matching")
    assert naive["coef"] - PLANTED["matching"] > 0.08
    assert naive["ci_low"] > PLANTED["matching"] + 0.05


def test_minimum_caseload_and_subgroups_restrict_the_sample():
    cohort = simulate_cohort(5, n_clients=3000)
    busiest = cohort["caseworker"].value_counts()["count"].sort(descending=True)
    threshold = int(busiest[30])
    specs = [
        {"name": "all", "treatments": ["matching"]},
        {"name": "big", "treatments": ["matching"], "min_caseload": threshold},
        {"name": "women", "treatments": ["matching"], "subgroup": "sex=woman"},
    ]
    estimates, _ = run_specifications(cohort, specs)
    first = estimates.filter(pl.col("se_type") == "cluster:caseworker").unique("specification")
    sizes = dict(zip(first["specification"], first["n"], strict=True))
    clusters = dict(zip(first["specification"], first["n_clusters"], strict=True))
    assert sizes["all"] == 3000
    assert sizes["big"] < 3000 and clusters["big"] == int((busiest >= threshold).sum())
    assert sizes["women"] == cohort.filter(pl.col("sex") == "woman").height
    assert set(estimates.filter(pl.col("specification") == "women")["subgroup"]) == {"sex=woman"}


def test_a_client_alone_in_its_cell_is_dropped_instead_of_breaking_ujive():
    """A one-client assignment cell gives its client leverage 1 in the cell fixed effects; the
    caseload filter cannot catch it (its caseworker has many clients), the cell filter does."""
    cohort = simulate_cohort(6, n_clients=1500)
    moved = cohort.with_columns(
        cell=pl.when(pl.int_range(pl.len()) == 17).then(pl.lit("new_cell")).otherwise("cell")
    )
    assert moved.filter(pl.col("cell") == "new_cell").height == 1
    spec = {"name": "joint", "treatments": ["matching", "activering"]}
    spec |= {"estimators": ["2sls", "ujive", "jive1"]}
    full = prepare_sample(cohort, Specification.from_mapping(spec))
    sample = prepare_sample(moved, Specification.from_mapping(spec))
    assert sample.n == full.n - 1 == cohort.height - 1
    assert "new_cell" not in sample.frame["cell"].to_list()
    estimates, _ = run_specifications(moved, [spec])
    iv = estimates.filter(pl.col("model") == "iv")
    assert set(iv["estimator"]) == {"2sls", "ujive", "jive1"}
    assert set(iv["n"]) == {cohort.height - 1}
    assert iv["coef"].is_finite().all() and iv["se"].is_finite().all()


def test_clients_left_alone_by_an_undefined_split_sample_propensity_are_dropped(monkeypatch):
    """A caseworker whose clients all fall in one random half has no split-sample propensity;
    dropping those clients can leave a one-client cell, which the second pass of the filter
    removes before UJIVE would meet its leverage of 1."""
    cohort = simulate_cohort(6, n_clients=1500).with_columns(
        caseworker=pl.when(pl.int_range(pl.len()) < 2)
        .then(pl.lit("cw_new"))
        .otherwise("caseworker"),
        cell=pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("c_new")).otherwise("cell"),
    )
    draw = instruments.random_halves

    def halves_with_cw_new_together(n, seed):
        half = draw(n, seed)
        half[:2] = True
        return half

    monkeypatch.setattr(instruments, "random_halves", halves_with_cw_new_together)
    spec = {"name": "split", "treatments": ["matching", "activering"]}
    spec |= {"instruments": "split_sample", "estimators": ["2sls", "ujive"]}
    sample = prepare_sample(cohort, Specification.from_mapping(spec))
    assert "cw_new" not in sample.frame["caseworker"].to_list()
    assert "c_new" not in sample.frame["cell"].to_list()
    estimates, _ = run_specifications(cohort, [spec])
    assert estimates.filter(pl.col("model") == "iv")["coef"].is_finite().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown keys"),
        ({"treatments": ["prematching"]}, "treatments"),
        ({"instruments": "judges"}, "instruments"),
        ({"estimators": ["liml"]}, "estimators"),
        ({"min_caseload": 1}, "min_caseload"),
        ({"headline": True, "estimators": ["2sls"]}, "headline"),
    ],
)
def test_invalid_specifications_are_rejected(change, message):
    spec = {"name": "bad", "treatments": ["matching"]} | change
    with pytest.raises(ValueError, match=message):
        run_specifications(simulate_cohort(0, n_clients=300), [spec])


def test_specifications_need_a_name_and_treatments():
    with pytest.raises(ValueError, match="missing keys"):
        run_specifications(simulate_cohort(0, n_clients=300), [{"name": "no_treatments"}])


def test_number_of_intake_quarters_sets_the_number_of_cells():
    assert simulate_cohort(3, n_clients=1000, intake_quarters=2)["cell"].n_unique() == 8
    with pytest.raises(ValueError, match="intake_quarters"):
        simulate_cohort(3, intake_quarters=13)


def test_split_sample_instrument_runs_and_is_weaker():
    cohort = simulate_cohort(0)
    specs = [
        {"name": "loo", "treatments": ["matching"]},
        {"name": "split", "treatments": ["matching"], "instruments": "split_sample"},
    ]
    _, diagnostics = run_specifications(cohort, specs)
    f = dict(zip(diagnostics["specification"], diagnostics["first_stage_f"], strict=True))
    assert 10 < f["split"] < f["loo"]
    assert np.isfinite(list(f.values())).all()


def test_a_cohort_too_small_to_estimate_ends_with_one_message_naming_its_size():
    from wwvw.core.errors import DeliveryError
    from wwvw.validity.samples import build_sample

    spec = {"name": "tiny", "treatments": ["matching", "activering"]}
    empty = simulate_cohort(3, n_clients=200).head(0)
    with pytest.raises(DeliveryError) as error:
        run_specifications(empty, [spec])
    assert "the analysis cohort has 0 clients" in str(error.value)
    assert "two caseworkers of 2 or more clients" in str(error.value)
    with pytest.raises(DeliveryError):
        build_sample(empty)
    with pytest.raises(DeliveryError) as error:  # 43 clients: some cells compare caseworkers
        run_specifications(simulate_cohort(3, n_clients=43), [spec])
    assert re.search(r"the estimation sample of \d+ clients is too small", str(error.value))
    assert "two or more caseworkers" in str(error.value)


def test_a_small_cohort_that_can_be_estimated_is_not_refused():
    cohort = simulate_cohort(3, n_clients=600)
    estimates, _ = run_specifications(cohort, [{"name": "s", "treatments": ["matching"]}])
    assert estimates.height > 0
