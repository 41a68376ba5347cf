"""Rule `validity_exclusion`: Frandsen-Lefgren-Leslie test and Bhuller-Sigstad checks."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.validity.exclusion import exclusion_table
from wwvw.validity.multi_treatment import multi_treatment_table
from wwvw.validity.samples import build_sample

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        sample = build_sample(pl.read_parquet(snakemake.input.cohort), **params.sample)  # noqa: F821
        exclusion = exclusion_table(sample, params.degree)
        for row in exclusion.filter(pl.col("part") != "slope").iter_rows(named=True):
            log.info(
                "FLL %s %s: statistic %.2f (df %d), p %.3f",
                row["margin"],
                row["part"],
                row["statistic"],
                row["df"],
                row["pvalue"],
            )
        multi = multi_treatment_table(sample, params.subgroups, params.min_size, params.seed)
        multi_summary = multi.filter(pl.col("section") == "summary")
        log.info(
            "no cross effects: smallest p over characteristics %.3f", multi_summary["pvalue"].min()
        )
        exclusion.write_csv(snakemake.output.exclusion, float_precision=10)  # noqa: F821
        multi.write_csv(snakemake.output.multi_treatment, float_precision=10)  # noqa: F821
