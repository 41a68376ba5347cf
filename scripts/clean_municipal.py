"""Rule `clean_municipal`: one municipal extract -> clean Parquet, a cleaning and a validation report.

The privacy guard screens the file first; a bad delivery (wwvw.core.errors.DeliveryError) ends the job
with one message and status 1 before anything is written.
"""

from pathlib import Path

import polars as pl
from wwvw.core import logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.ingest.municipal import (
    EXTRACTS,
    ROW,
    clean_extract,
    normalise_caseworkers,
    normalise_departments,
    normalise_locations,
)
from wwvw.ingest.validation import validate_extract


def clean(path: str, extract: str, department_spellings: dict):
    """(clean frame, cleaning report, validation report) of one extract."""
    name = Path(path).name
    cleaned = clean_extract(Path(path).read_bytes(), name, EXTRACTS[extract])
    frame, outcome = validate_extract(cleaned.frame, name, extract)
    frame = frame.drop(ROW)
    report = cleaned.report
    if extract == "werkintake":
        frame = normalise_locations(normalise_departments(frame, department_spellings))
        frame, changed = normalise_caseworkers(frame)
        extra = {"extract": name, "measure": "caseworker_codes_normalised", "value": str(changed)}
        report = pl.concat([report, pl.DataFrame([extra])])
    return frame, report, outcome.frame()


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    with exit_on_delivery_error(log):
        frame, report, validation = clean(
            snakemake.input[0],  # noqa: F821
            snakemake.wildcards.extract,  # noqa: F821
            snakemake.params.department_spellings,  # noqa: F821
        )
    frame.write_parquet(snakemake.output.clean)  # noqa: F821
    report.write_csv(snakemake.output.report)  # noqa: F821
    validation.write_csv(snakemake.output.validation)  # noqa: F821
    for measure, value in report.select("measure", "value").iter_rows():
        log.info("%s: %s", measure, value)
    for row in validation.filter(pl.col("rows") > 0).iter_rows(named=True):
        log.info("%s %s, %s: %d rows", row["action"], row["column"], row["check"], row["rows"])
