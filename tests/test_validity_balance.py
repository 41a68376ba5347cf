"""Balance and permutation tests: pass under random assignment, fail when clients are sorted."""

import numpy as np
import polars as pl
import pytest
from validity_helpers import sorted_by_employability
from wwvw.estimation.simulate import simulate_cohort
from wwvw.validity.balance import (
    balance_table,
    permutation_test,
    permute_within_cells,
    with_permutation_pvalues,
)
from wwvw.validity.samples import build_sample

DRAWS = 19


@pytest.fixture(scope="module")
def valid():
    return build_sample(simulate_cohort(11, include_truth=True))


@pytest.fixture(scope="module")
def broken():
    return build_sample(sorted_by_employability(simulate_cohort(11, include_truth=True)))


def joint(table: pl.DataFrame, section: str, dependent: str) -> dict:
    rows = table.filter(
        (pl.col("section") == section)
        & (pl.col("dependent") == dependent)
        & (pl.col("regressor") == "joint")
    )
    return rows.row(0, named=True)


def test_covariates_predict_treatments_but_not_instruments_under_random_assignment(valid):
    table = balance_table(valid)
    assert joint(table, "joint_prediction", "matching")["pvalue"] < 1e-10
    for instrument in ("propensity_matching", "propensity_activering"):
        assert joint(table, "joint_prediction", instrument)["statistic"] < 3
    assert joint(table, "instrument_balance", "predicted_outcome")["pvalue"] > 0.01


def test_balance_rejects_when_clients_are_sorted_to_caseworkers(broken):
    table = balance_table(broken)
    assert joint(table, "instrument_balance", "predicted_outcome")["pvalue"] < 1e-6
    assert joint(table, "joint_prediction", "propensity_matching")["pvalue"] < 1e-6


def test_permutation_test_passes_random_and_flags_sorted_assignment(valid, broken):
    ok = permutation_test(valid, DRAWS, seed=1).sort("statistic")
    bad = permutation_test(broken, DRAWS, seed=1).sort("statistic")
    assert ok["permutation_pvalue"].min() > 0.1
    smallest = 1 / (DRAWS + 1)
    flagged = bad.filter(pl.col("statistic").str.contains("predicted_outcome"))
    assert flagged["permutation_pvalue"].to_list() == [smallest] * flagged.height
    table = with_permutation_pvalues(balance_table(valid), ok)
    assert table["permutation_pvalue"].drop_nulls().len() == 3
    assert table.height == balance_table(valid).height


def test_permutation_keeps_every_caseworkers_caseload_per_cell():
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 5, 300)
    labels = rng.integers(0, 12, 300)
    permuted = permute_within_cells(cells, labels, rng)
    before = pl.DataFrame({"c": cells, "l": labels}).group_by("c", "l").len().sort("c", "l")
    after = pl.DataFrame({"c": cells, "l": permuted}).group_by("c", "l").len().sort("c", "l")
    assert before.equals(after)
    assert not np.array_equal(labels, permuted)
