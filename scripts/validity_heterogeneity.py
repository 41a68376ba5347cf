"""Rule `validity_heterogeneity`: IV effects by subgroup, equality tests, Romano-Wolf p-values."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.validity.heterogeneity import compare_with_estimates, heterogeneity_table
from wwvw.validity.samples import build_sample

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        sample = build_sample(pl.read_parquet(snakemake.input.cohort), **params.sample)  # noqa: F821
        table = heterogeneity_table(
            sample,
            params.subgroups,
            params.min_size,
            params.estimators,
            params.min_caseload,
            params.replications,
            params.seed,
            params.se_type,
        )
        estimates = pl.read_csv(snakemake.input.estimates)  # noqa: F821
        check = compare_with_estimates(table, estimates, params.specification)
        for row in check.iter_rows(named=True):
            log.info(
                "whole cohort %s %s: %.6f here, %.6f in estimates.csv",
                row["estimator"],
                row["treatment"],
                row["coef"],
                row["coef_estimates"],
            )
        tests = table.filter(pl.col("row") == "equality_test")
        log.info(
            "equality tests (%s errors): %d of %d reject at 5%% (%d after Holm)",
            params.se_type,
            (tests["pvalue"] < 0.05).sum(),
            tests.height,
            (tests["pvalue_holm"] < 0.05).sum(),
        )
        table.write_csv(snakemake.output[0], float_precision=10)  # noqa: F821
