"""Broken versions of the planted design, for tests that must fail when the design is broken."""

import polars as pl


def sorted_by_employability(cohort: pl.DataFrame) -> pl.DataFrame:
    """Broken design: within each cell, the most employable clients go to the caseworkers who
    refer most to Matching (each caseworker keeps its caseload per cell); referrals unchanged."""
    rate = cohort.group_by("caseworker").agg((pl.col("department") == "matching").mean().alias("r"))
    frame = cohort.join(rate, on="caseworker").with_row_index("row")
    slots = frame.sort("cell", "r", "caseworker").select("cell", "caseworker")
    clients = frame.sort("cell", "employability").drop("caseworker")
    return clients.with_columns(slots["caseworker"]).sort("row").drop("row", "r")
