"""The validity stage end to end on the synthetic snapshot: files, shared columns, key checks."""

import polars as pl
import pytest

FILES = (
    "balance",
    "permutation",
    "monotonicity",
    "exclusion",
    "multi_treatment",
    "compliers",
    "heterogeneity",
    "placebo",
)
HETEROGENEITY_COLUMNS = [
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


def read(results, name: str) -> pl.DataFrame:
    return pl.read_csv(results / "validity" / f"{name}.csv", infer_schema_length=None)


@pytest.mark.parametrize("name", FILES)
def test_every_validity_table_is_written_with_counts(results, name):
    table = read(results, name)
    assert table.height > 0
    assert "n" in table.columns and table["n"].null_count() == 0


def test_heterogeneity_keeps_the_columns_shared_with_the_figures(results):
    table = read(results, "heterogeneity")
    assert table.columns[: len(HETEROGENEITY_COLUMNS)] == HETEROGENEITY_COLUMNS
    assert {"subgroup", "equality_test", "overall"} <= set(table["row"])


def test_monotonicity_holds_on_the_synthetic_snapshot(results):
    table = read(results, "monotonicity")
    assert not table["negative_5pct"].any()
    assert table.filter(pl.col("treatment") == "matching")["positive"].all()


def test_planted_effect_inside_every_simultaneous_band(results):
    table = read(results, "heterogeneity").filter(pl.col("row") == "subgroup")
    truth = pl.col("treatment").replace_strict(
        {"matching": 0.10, "activering": 0.0}, return_dtype=pl.Float64
    )
    inside = (pl.col("ci_low_simultaneous") <= truth) & (truth <= pl.col("ci_high_simultaneous"))
    assert table.select(inside).to_series().all()
