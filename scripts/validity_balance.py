"""Rule `validity_balance`: balance table and within-cell permutation test of caseworker labels."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.validity.balance import balance_table, permutation_test, with_permutation_pvalues
from wwvw.validity.samples import build_sample

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        sample = build_sample(pl.read_parquet(snakemake.input.cohort), **params.sample)  # noqa: F821
        log.info("sample: %d clients, %d caseworkers", sample.n, sample.n_clusters)
        balance = balance_table(sample)
        permutation = permutation_test(
            sample, params.draws, params.seed, params.sample.get("split_seed", 0)
        )
        balance = with_permutation_pvalues(balance, permutation)
        for row in permutation.iter_rows(named=True):
            log.info(
                "%s: observed %.3f, permutation p %.3f (analytic %.3f)",
                row["statistic"],
                row["observed"],
                row["permutation_pvalue"],
                row["analytic_pvalue"],
            )
        balance.write_csv(snakemake.output.balance, float_precision=10)  # noqa: F821
        permutation.write_csv(snakemake.output.permutation, float_precision=10)  # noqa: F821
