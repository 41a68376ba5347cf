"""Rule `clean_municipal`: one municipal extract -> clean Parquet and a cleaning report."""

from pathlib import Path

from wwvw import logs
from wwvw.municipal import EXTRACTS, clean_extract, normalise_departments, normalise_locations


def clean(path: str, extract: str, department_spellings: dict):
    cleaned = clean_extract(Path(path).read_bytes(), Path(path).name, EXTRACTS[extract])
    frame = cleaned.frame
    if extract == "werkintake":
        frame = normalise_locations(normalise_departments(frame, department_spellings))
    return frame, cleaned.report


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    frame, report = clean(
        snakemake.input[0],  # noqa: F821
        snakemake.wildcards.extract,  # noqa: F821
        snakemake.params.department_spellings,  # noqa: F821
    )
    frame.write_parquet(snakemake.output.clean)  # noqa: F821
    report.write_csv(snakemake.output.report)  # noqa: F821
    for measure, value in report.select("measure", "value").iter_rows():
        log.info("%s: %s", measure, value)
