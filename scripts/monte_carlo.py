"""Rule `monte_carlo`: replications of the planted design; bias, RMSE and coverage per estimator."""

import time

import polars as pl
from wwvw.core import logs
from wwvw.validity.monte_carlo import run_monte_carlo, summarise

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    params = snakemake.params  # noqa: F821
    started = time.perf_counter()
    draws = run_monte_carlo(
        params.designs,
        params.replications,
        params.seed,
        params.spec,
        snakemake.threads,  # noqa: F821
    )
    summary = summarise(draws)
    log.info(
        "%d replications x %d designs in %.0f s on %d processes",
        params.replications,
        len(params.designs),
        time.perf_counter() - started,
        snakemake.threads,  # noqa: F821
    )
    headline = summary.filter(
        (pl.col("model") == "joint")
        & (pl.col("estimator") == "ujive")
        & (pl.col("interval") == "wald_hetero")
        & (pl.col("treatment") == "matching")
    )
    for row in headline.iter_rows(named=True):
        log.info(
            "%s UJIVE matching (robust, the headline): bias %.4f (%.2f sd), coverage %.3f",
            row["design"],
            row["bias"],
            row["bias_in_se"],
            row["coverage"],
        )
    summary.write_csv(snakemake.output.summary, float_precision=10)  # noqa: F821
    draws.write_parquet(snakemake.output.draws)  # noqa: F821
