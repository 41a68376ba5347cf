"""Rule `validity_balance`: balance table and within-cell permutation test of caseworker labels."""

import polars as pl
from wwvw import logs
from wwvw.validity.balance import balance_table, permutation_test
from wwvw.validity.samples import build_sample


def with_permutation_pvalues(balance: pl.DataFrame, permutation: pl.DataFrame) -> pl.DataFrame:
    """Add the permutation p-value to the joint rows that the permutation test also computes."""
    statistic = {
        ("joint_prediction", "propensity_matching"): "f_covariates_propensity_matching",
        ("joint_prediction", "propensity_activering"): "f_covariates_propensity_activering",
        ("instrument_balance", "predicted_outcome"): "f_instruments_predicted_outcome",
    }
    keys = pl.DataFrame(
        [{"section": s, "dependent": d, "statistic_name": n} for (s, d), n in statistic.items()]
    ).with_columns(regressor=pl.lit("joint"))
    pvalues = permutation.select(
        pl.col("statistic").alias("statistic_name"), pl.col("permutation_pvalue")
    )
    return balance.join(
        keys.join(pvalues, on="statistic_name").drop("statistic_name"),
        on=["section", "dependent", "regressor"],
        how="left",
        maintain_order="left",
    )


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
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
