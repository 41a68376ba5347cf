"""Monte Carlo smoke test: few replications, every estimator and interval summarised."""

import polars as pl
import pytest
from wwvw.validity.monte_carlo import MonteCarloDesign, run_monte_carlo, summarise

SPEC = {"instruments": "loo_residualised", "covariates": True, "min_caseload": 2}
DESIGNS = {
    "default": {},
    "small_cells": {
        "n_locations": 60,
        "caseworkers_per_location": 5,
        "active_share": 1.0,
        "intake_quarters": 1,
        "n_clients": 2400,
    },
}


@pytest.fixture(scope="module")
def summary():
    draws = run_monte_carlo(DESIGNS, 20, 7, SPEC, processes=2)
    assert draws.height == 2 * 20 * (4 * 2 * 2 + 2 * 2 + 1 + 2)
    return summarise(draws)


def pick(summary, design, estimator, interval="wald_cluster", model="joint", treatment="matching"):
    return summary.filter(
        (pl.col("design") == design)
        & (pl.col("model") == model)
        & (pl.col("estimator") == estimator)
        & (pl.col("interval") == interval)
        & (pl.col("treatment") == treatment)
    ).row(0, named=True)


def test_every_estimator_and_interval_is_summarised(summary):
    intervals = set(summary.select("model", "estimator", "interval").iter_rows())
    for estimator in ("ols", "2sls", "ujive", "jive1"):
        assert ("joint", estimator, "wald_cluster") in intervals
    assert ("single", "2sls", "tf_cluster") in intervals
    assert ("single", "anderson_rubin", "ar_cluster") in intervals
    assert (summary["replications"] == 20).all()
    assert summary["runtime"].is_not_null().all()


def test_ols_is_biased_and_ujive_is_not_in_the_default_design(summary):
    ols = pick(summary, "default", "ols")
    assert ols["bias"] > 0.05 and ols["coverage"] < 0.2
    ujive = pick(summary, "default", "ujive")
    assert abs(ujive["bias_in_se"]) < 0.6 and ujive["coverage"] >= 0.8
    ar = pick(summary, "default", "anderson_rubin", "ar_cluster", model="single")
    assert ar["bias"] is None and ar["coverage"] >= 0.8


def test_design_validation():
    design = MonteCarloDesign.from_mapping("x", {"n_locations": 3, "effects": {"matching": 0.2}})
    assert len(design.design.locations) == 3 and design.truth("matching") == 0.2
    with pytest.raises(ValueError, match="unknown keys"):
        MonteCarloDesign.from_mapping("x", {"leniency": 1})
