"""The estimation stage on the synthetic default, against the planted truth (truth/summary.json)."""

import json

import polars as pl
import pytest


@pytest.fixture(scope="module")
def estimates(results):
    return pl.read_csv(results / "estimates" / "estimates.csv")


@pytest.fixture(scope="module")
def truth(synthetic_dir):
    return json.loads((synthetic_dir / "truth" / "summary.json").read_text())


def test_exactly_one_headline_iv_row_per_treatment(estimates):
    headline = estimates.filter(pl.col("headline"))
    assert sorted(headline["treatment"].to_list()) == ["activering", "matching"]
    assert (headline["model"] == "iv").all() and (headline["subgroup"] == "all").all()


def test_headline_intervals_cover_the_planted_effects(estimates, truth):
    for treatment, effect in truth["effects"].items():
        row = estimates.filter(pl.col("headline") & (pl.col("treatment") == treatment)).row(
            0, named=True
        )
        assert row["ci_low"] <= effect <= row["ci_high"], (treatment, row)
    matching = estimates.filter(pl.col("headline") & (pl.col("treatment") == "matching")).row(
        0, named=True
    )
    assert matching["ci_low"] > 0  # the effect is found, not just covered


def test_naive_ols_is_clearly_biased(estimates, truth):
    ols = estimates.filter(
        (pl.col("model") == "ols")
        & (pl.col("specification") == "joint_cov")
        & (pl.col("treatment") == "matching")
        & (pl.col("se_type") == "cluster:caseworker")
    ).row(0, named=True)
    assert ols["ci_low"] > truth["effects"]["matching"] + 0.03


def test_every_specification_and_se_type_is_reported(estimates, results):
    diagnostics = pl.read_csv(results / "estimates" / "diagnostics.csv")
    assert set(estimates["se_type"]) == {"hetero", "cluster:caseworker", "cluster:client"}
    assert set(estimates["specification"]) == set(diagnostics["specification"])
    assert (diagnostics["first_stage_f"] > 10).all()
    single = diagnostics.filter(pl.col("specification") == "matching_vs_rest_cov").row(
        0, named=True
    )
    assert single["tf_ci_low"] < single["tf_ci_high"] and single["ar_ci_low"] < single["ar_ci_high"]
