"""Broken versions of the planted design, for tests that must fail when the design is broken."""

import polars as pl
from wwvw.synthetic.design import Design

MODERATE = Design(leniency_sd_matching=0.35, leniency_sd_activering=0.35)
"""The moderate leniency spread of typical real designs. The unit tests of the checks that assert
on one fixed draw use it: at the synthetic default's spread (0.6, chosen for power) their fixed
draws happen to hold a 3-standard-error Activering subgroup estimate (heterogeneity, seed 41) and
an FLL p of 0.047 (seed 31), chance events whose rates were measured over 25-30 draws at 0.6
(subgroup rejections 1-3%, FLL rejections 0 of 30). The planted cross effect also moves fewer
clients when more of them go to Matching. The default spread is covered by the pipeline tests
and the Monte Carlo."""


def sorted_by_employability(cohort: pl.DataFrame) -> pl.DataFrame:
    """Broken design: within each cell, the most employable clients go to the caseworkers who
    refer most to Matching (each caseworker keeps its caseload per cell); referrals unchanged."""
    rate = cohort.group_by("caseworker").agg((pl.col("department") == "matching").mean().alias("r"))
    frame = cohort.join(rate, on="caseworker").with_row_index("row")
    slots = frame.sort("cell", "r", "caseworker").select("cell", "caseworker")
    clients = frame.sort("cell", "employability").drop("caseworker")
    return clients.with_columns(slots["caseworker"]).sort("row").drop("row", "r")
