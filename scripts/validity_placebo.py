"""Rule `validity_placebo`: IV estimates on outcomes fixed before the intake."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.validity.placebo import placebo_table
from wwvw.validity.samples import build_sample

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        sample = build_sample(pl.read_parquet(snakemake.input.cohort), **params.sample)  # noqa: F821
        table, skipped = placebo_table(sample, params.outcomes, params.estimators)
        for name in skipped:
            log.warning(
                "placebo %s skipped: the cohort lacks the variable it is derived from", name
            )
        for row in table.iter_rows(named=True):
            log.info(
                "placebo %s, %s, %s: %.4f (p %.3f)",
                row["outcome"],
                row["treatment"],
                row["estimator"],
                row["coef"],
                row["pvalue"],
            )
        table.write_csv(snakemake.output[0], float_precision=10)  # noqa: F821
