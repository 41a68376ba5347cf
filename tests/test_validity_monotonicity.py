"""Monotonicity checks and complier profiles on simulated cohorts."""

import numpy as np
import polars as pl
import pytest
from wwvw.estimation.simulate import simulate_cohort
from wwvw.validity.compliers import complier_table
from wwvw.validity.monotonicity import monotonicity_table
from wwvw.validity.samples import CHARACTERISTICS, build_sample


def reversed_for_women(cohort: pl.DataFrame) -> pl.DataFrame:
    """Broken monotonicity: among women, the caseworkers who send men to Matching most often send
    women to Matching least often (women's referrals re-dealt within each cell)."""
    men = cohort.filter(pl.col("sex") == "man")
    rate = men.group_by("caseworker").agg((pl.col("department") == "matching").mean().alias("r"))
    frame = cohort.join(rate, on="caseworker", how="left").with_row_index("row")
    women = frame.filter(pl.col("sex") == "woman")
    slots = women.sort("cell", "r", descending=[False, True]).select("row")
    ordered = women.sort("cell", pl.col("department") == "matching").select("department")
    dealt = pl.DataFrame({"row": slots["row"], "dealt": ordered["department"]})
    frame = frame.join(dealt, on="row", how="left").with_columns(
        department=pl.coalesce("dealt", "department")
    )
    return frame.sort("row").drop("row", "r", "dealt")


@pytest.fixture(scope="module")
def sample():
    return build_sample(simulate_cohort(21))


def test_all_first_stages_positive_under_the_planted_design(sample):
    table = monotonicity_table(sample, CHARACTERISTICS, 100)
    assert set(table["test"]) == {"subgroup_first_stage", "reverse_sample"}
    assert not table["negative_5pct"].any()
    matching = table.filter(pl.col("treatment") == "matching")
    assert matching["positive"].all()
    assert (matching["coef"] / matching["se"]).median() > 5


def test_reverse_sample_test_flags_a_subgroup_treated_the_other_way():
    table = monotonicity_table(build_sample(reversed_for_women(simulate_cohort(21))), ["sex"], 100)
    women = table.filter(
        (pl.col("test") == "reverse_sample")
        & (pl.col("level") == "woman")
        & (pl.col("treatment") == "matching")
    ).row(0, named=True)
    assert women["coef"] < 0 and women["pvalue"] < 0.01
    assert women["negative_5pct"]


def test_complier_shares_and_profiles_are_coherent(sample):
    table = complier_table(sample, CHARACTERISTICS, 100)
    shares = table.filter(pl.col("section") == "shares")
    total = shares["share_compliers"] + shares["share_always_takers"] + shares["share_never_takers"]
    np.testing.assert_allclose(total.to_numpy(), 1.0)
    assert shares["share_compliers"].is_between(0.05, 0.95).all()
    profile = table.filter(pl.col("section") == "characteristics")
    sums = profile.group_by("treatment", "characteristic").agg(pl.col("share_of_compliers").sum())
    assert sums["share_of_compliers"].is_between(0.85, 1.15).all()
    # Activering compliers are rarely experienced workers (employable clients are not activated)
    over_12 = profile.filter(
        (pl.col("treatment") == "activering") & (pl.col("level") == "over_12")
    ).row(0, named=True)
    assert over_12["ratio"] < 0.6 and over_12["ratio_ci_high"] < 1
