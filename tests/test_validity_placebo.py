"""Placebo outcomes fixed before the intake: no IV effect, unlike the naive comparison."""

import polars as pl
from validity_helpers import sorted_by_employability
from wwvw.estimation.simulate import simulate_cohort
from wwvw.validity.placebo import placebo_table
from wwvw.validity.samples import build_sample


def row(table: pl.DataFrame, estimator: str, outcome: str = "worked_before") -> dict:
    return table.filter(
        (pl.col("outcome") == outcome)
        & (pl.col("estimator") == estimator)
        & (pl.col("treatment") == "matching")
    ).row(0, named=True)


def test_previous_work_shows_selection_but_no_iv_effect():
    table, skipped = placebo_table(build_sample(simulate_cohort(51)), ["worked_before", "debts"])
    assert skipped == []
    assert row(table, "ols")["coef"] > 0.1 and row(table, "ols")["pvalue"] < 1e-6
    for estimator in ("2sls", "ujive"):
        assert row(table, estimator)["pvalue"] > 0.05, estimator


def test_placebo_fails_when_clients_are_sorted_to_caseworkers():
    broken = sorted_by_employability(simulate_cohort(51, include_truth=True))
    table, _ = placebo_table(build_sample(broken), ["worked_before"])
    assert row(table, "ujive")["coef"] > 0.1 and row(table, "ujive")["pvalue"] < 1e-4


def test_work_months_placebo_is_skipped_without_the_column():
    _, skipped = placebo_table(build_sample(simulate_cohort(52, n_clients=800)), ["work_months"])
    assert skipped == ["work_months"]
