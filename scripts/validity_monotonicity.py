"""Rule `validity_monotonicity`: first stages by subgroup, reverse-sample test, compliers."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.validity.compliers import complier_table
from wwvw.validity.monotonicity import monotonicity_table
from wwvw.validity.samples import build_sample, subgroups

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        sample = build_sample(pl.read_parquet(snakemake.input.cohort), **params.sample)  # noqa: F821
        _, skipped = subgroups(sample, params.subgroups, params.min_size)
        for characteristic, level, n in skipped:
            log.info(
                "subgroup %s=%s left out: %d clients < %d",
                characteristic,
                level,
                n,
                params.min_size,
            )
        monotonicity = monotonicity_table(
            sample, params.subgroups, params.min_size, params.sample.get("split_seed", 0)
        )
        for (test,), rows in monotonicity.group_by(["test"], maintain_order=True):
            log.info(
                "%s: %d of %d first stages positive", test, rows["positive"].sum(), rows.height
            )
        compliers = complier_table(
            sample, params.subgroups, params.min_size, tuple(params.quantiles)
        )
        monotonicity.write_csv(snakemake.output.monotonicity, float_precision=10)  # noqa: F821
        compliers.write_csv(snakemake.output.compliers, float_precision=10)  # noqa: F821
