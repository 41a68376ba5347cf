"""The synthetic truth against the published numbers (../shared/STUDY.md) and the planted design."""

import json

import numpy as np
import polars as pl
import pytest
from conftest import load_yaml


@pytest.fixture(scope="module")
def persons(synthetic_dir):
    return pl.read_parquet(synthetic_dir / "truth" / "persons.parquet")


@pytest.fixture(scope="module")
def summary(synthetic_dir):
    return json.loads((synthetic_dir / "truth" / "summary.json").read_text())


def level_mask(persons, characteristic, level):
    column = persons[characteristic]
    return column == (level == "yes") if column.dtype == pl.Boolean else column == level


def test_study_population_size_within_one_percent(persons, published):
    assert abs(persons.height / published["study_population"]["n"] - 1) < 0.01


def table1_rows(published):
    for characteristic, levels in published["study_population"]["table1"].items():
        for level, counts in levels.items():
            yield characteristic, level, counts


@pytest.mark.parametrize(
    "characteristic,level,counts", list(table1_rows(load_yaml("config/published.yaml")))
)
def test_table1_row_within_1_5_points(persons, published, characteristic, level, counts):
    n_pub, started_pub = counts
    total_pub = published["study_population"]["n"]
    started_total_pub = published["study_population"]["n_started"]
    mask = level_mask(persons, characteristic, level)
    started = persons["outcome"]
    pct = 100 * mask.mean()
    pct_started = 100 * (mask & started).sum() / started.sum()
    assert abs(pct - 100 * n_pub / total_pub) <= 1.5
    assert abs(pct_started - 100 * started_pub / started_total_pub) <= 1.5


def test_table2_department_sizes_and_rates(persons, published):
    cohort = persons.filter(pl.col("in_cohort"))
    assert abs(cohort.height / 5988 - 1) < 0.01
    for department, (n, started) in published["cohort"]["table2"].items():
        members = cohort.filter(pl.col("department") == department)
        assert abs(members.height - n) / n < 0.01
        assert abs(100 * members["outcome"].mean() - 100 * started / n) <= 3.0


def test_figure1_chronic_prevalences(summary, published):
    figure = summary["figure1_2016"]
    for group in ("bijstand", "rest"):
        for measure, share in published["figure1"][group].items():
            assert abs(figure[group][measure] - share) < 0.02, (group, measure)
    assert abs(figure["rest"]["n"] / published["figure1"]["rest_n"] - 1) < 0.05


def kaplan_meier_started_by(persons, months):
    out = {}
    for level, group in persons.group_by("chronic"):
        event = group["months_to_work"].fill_null(10**6).to_numpy()
        window = group["followup_window"].to_numpy()
        survival = 1.0
        for m in range(1, months + 1):
            at_risk = ((event >= m) & (window >= m)).sum()
            if at_risk:
                survival *= 1 - (event == m).sum() / at_risk
        out[level[0]] = 1 - survival
    return out


def test_figure2_time_to_work_pattern(persons, published):
    started = kaplan_meier_started_by(persons, 30)
    target = published["figure2"]["started_by_30_months"]
    assert started["0"] > started["1"] > started["2"] > started["3+"]
    for level, share in target.items():
        assert abs(started[level] - share) < 0.05, level


def test_summary_has_the_contract_keys(summary):
    for key in (
        "study_population_n",
        "cohort_n",
        "cohort_by_department",
        "effects",
        "effects_definition",
    ):
        assert key in summary
    assert set(summary["cohort_by_department"]) == {"matching", "prematching", "activering"}
    assert summary["effects"] == {"matching": 0.10, "activering": 0.0}


def test_realistic_caseloads_and_cells(persons):
    cohort = persons.filter(pl.col("in_cohort"))
    per_cell = cohort.group_by("location", "intake_period").agg(pl.col("caseworker").n_unique())
    assert 30 <= cohort["caseworker"].n_unique() <= 100
    assert per_cell["caseworker"].min() >= 3


def test_assignment_is_random_within_cells(persons):
    """Employability does not differ across caseworkers within cells (F-test of caseworker dummies)."""
    from scipy import stats

    cohort = persons.filter(pl.col("in_cohort")).with_columns(
        (pl.col("location") + pl.col("intake_period").cast(pl.String)).alias("cell")
    )
    e = cohort["employability"].to_numpy()
    cell_mean = cohort.select(pl.col("employability").mean().over("cell")).to_series().to_numpy()
    cw_mean = (
        cohort.select(pl.col("employability").mean().over("cell", "caseworker"))
        .to_series()
        .to_numpy()
    )
    groups = cohort.select(pl.struct("cell", "caseworker").n_unique()).item()
    cells = cohort["cell"].n_unique()
    between = ((cw_mean - cell_mean) ** 2).sum() / (groups - cells)
    within = ((e - cw_mean) ** 2).sum() / (cohort.height - groups)
    assert stats.f.sf(between / within, groups - cells, cohort.height - groups) > 0.01


def test_naive_comparison_is_badly_biased(persons, summary):
    cohort = persons.filter(pl.col("in_cohort"))
    rate = {
        d: cohort.filter(pl.col("department") == d)["outcome"].mean()
        for d in ("matching", "prematching")
    }
    assert rate["matching"] - rate["prematching"] > 3 * summary["effects"]["matching"]
    assert abs(summary["sample_average_effects"]["matching"] - 0.10) < 0.02


def test_outcome_traps_exist(persons):
    """Non-starters include people with work outside the window: the outcome rule matters."""
    assert persons.filter(~pl.col("outcome")).height > 0
    assert persons.filter(pl.col("entry") == "stock").height > 0
    assert np.isin(
        ["stock", "inflow_2015", "inflow_2016", "inflow_2017"], persons["entry"].unique().to_list()
    ).all()
