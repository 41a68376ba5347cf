"""Rule `estimate`: one specification on the cohort (OLS, first stages, reduced form,
2SLS/UJIVE/JIVE1, weak-IV diagnostics)."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.estimation.specifications import run_specifications

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        out = snakemake.output  # noqa: F821
        spec = snakemake.params.spec  # noqa: F821
        estimates, diagnostics = run_specifications(
            pl.read_parquet(snakemake.input.cohort),  # noqa: F821
            [spec],
        )
        log.info("specification %s: %d coefficient rows", spec["name"], estimates.height)
        estimates.write_csv(out.estimates, float_precision=10)
        diagnostics.write_csv(out.diagnostics, float_precision=10)
