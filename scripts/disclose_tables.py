"""Rules `disclose_tables`, `disclose_linkage` and `disclose_validity`: safe copies of the
released tables under results/<snapshot>/safe/ (CBS output rules applied) and their output_check
rows."""

import polars as pl
from wwvw.core import logs
from wwvw.release.bundle import model_size_bound, release_tables, thresholds_from_config
from wwvw.release.disclosure import DisclosureError

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
    # model tables need the cohort's model size; the linkage report has none
    has_cohort = "cohort" in inp.keys()  # noqa: SIM118 (Namedlist iterates over values)
    cohort = pl.read_parquet(inp.cohort) if has_cohort else None
    n_params = model_size_bound(cohort) if cohort is not None else None
    try:
        checks = release_tables(
            dict(zip(params.names, inp.tables, strict=True)),
            dict(zip(params.names, out.tables, strict=True)),
            out.checks,
            thresholds_from_config(params.disclosure),
            n_params,
            step=params.disclosure["time_to_work_step"],
            cohort_clients=cohort.height if cohort is not None else None,
        )
    except DisclosureError as error:
        log.error("%s", error)
        raise
    for status, n in checks.group_by("status").len().sort("status").iter_rows():
        log.info("%d checks %s", n, status)
