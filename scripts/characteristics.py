"""Rule `characteristics`: covariates at the anchor month and the work outcome after it."""

import polars as pl
from wwvw.cohort.characteristics import Rules, characteristics, condition_table
from wwvw.core import logs
from wwvw.core.db import connect_rule, date_month_expr


def anchors(frame: pl.DataFrame) -> pl.DataFrame:
    """The anchor month: the reference month (population) or the benefit-start month (cohort)."""
    if "reference_month" in frame.columns:
        month = pl.col("reference_month")
    else:
        month = date_month_expr("benefit_start")
    return frame.select("RINPERSOONS", "RINPERSOON", month.cast(pl.Int64).alias("anchor_month"))


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    con.register("anchors", anchors(pl.read_parquet(snakemake.input.anchors)))  # noqa: F821
    con.register("atc_groups", condition_table(snakemake.input.conditions))  # noqa: F821
    rules = Rules.from_config(snakemake.params.cohort)  # noqa: F821
    result = characteristics(con, rules, snakemake.params.migration_groups)  # noqa: F821
    result.write_parquet(snakemake.output[0])  # noqa: F821
    log.info("%d persons, %d started work", result.height, int(result["outcome"].sum()))
