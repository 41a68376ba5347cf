"""Rule `collect_estimates`: every specification in estimates.csv and diagnostics.csv, with one
headline row per treatment."""

import polars as pl
from wwvw.core import logs
from wwvw.estimation.specifications import collect_estimates

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    out = snakemake.output  # noqa: F821
    estimates, diagnostics = collect_estimates(
        snakemake.input.estimates,  # noqa: F821
        snakemake.input.diagnostics,  # noqa: F821
        snakemake.params.specs,  # noqa: F821
        snakemake.params.headline_se_type,  # noqa: F821
    )
    for row in estimates.filter(pl.col("headline")).iter_rows(named=True):
        log.info(
            "headline %s (%s): %.3f (%.3f, %.3f)",
            row["treatment"],
            row["se_type"],
            row["coef"],
            row["ci_low"],
            row["ci_high"],
        )
    estimates.write_csv(out.estimates, float_precision=10)
    diagnostics.write_csv(out.diagnostics, float_precision=10)
