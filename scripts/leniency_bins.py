"""Rule `leniency_bins`: tables/leniency.csv, the numbers of the leniency (first-stage) figure."""

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.release.bundle import leniency_bins, thresholds_from_config

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        params = snakemake.params  # noqa: F821
        thresholds = thresholds_from_config(params.disclosure)
        bins = leniency_bins(
            pl.read_parquet(snakemake.input.cohort),  # noqa: F821
            kind=params.kind,
            min_caseload=params.min_caseload,
            target_bins=params.disclosure["leniency_bins"],
            min_persons=thresholds.min_persons,
            min_events=thresholds.min_events,
            min_caseworkers=thresholds.min_caseworkers,
        )
        bins.write_csv(snakemake.output[0])  # noqa: F821
        log.info(
            "%d propensity bins over %d departments", bins.height, bins["department"].n_unique()
        )
