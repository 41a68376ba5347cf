"""Rule script: convert one chosen CBS file to Parquet with the study's columns, all as strings,
after the privacy guard and with the values validated (and repaired where the contract allows).

Run by Snakemake (input[0] the chosen file, output[0] the Parquet file, output[1] the validation
report, params.columns, params.chunk_rows, params.sav_reader, log[0]), or by hand for debugging:
    python scripts/ingest_cbs.py IN OUT --columns RINPERSOONS RINPERSOON SECM [--chunk-rows N]
        [--report qc/validation_secm.csv] [--sav-reader auto|pyreadstat]

A bad delivery (wwvw.core.errors.DeliveryError) ends the job with one message and status 1, and neither
the Parquet file nor the report exists afterwards. The log names the file, its size, the rows
written, the repairs counted, the time and the peak memory; never a value.
"""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from wwvw.core import db, logs
from wwvw.core.errors import exit_on_delivery_error
from wwvw.ingest import privacy, validation
from wwvw.ingest.cbs import (
    SAV_READERS,
    convert_to_parquet,
    file_columns,
    parse_cbs_name,
    temporary_next_to,
    text_columns,
)

DEFAULT_CHUNK_ROWS = 1_000_000


def run(
    in_path,
    out_path,
    columns,
    chunk_rows,
    log: logging.Logger,
    report_path=None,
    resources: dict | None = None,
    sav_reader: str = "auto",
    year: int | str | None = None,
) -> int:
    """Ingest one file and log what was done; a DeliveryError is logged and ends the process.
    `year`: the register year the workflow wants from the file (a stand-in of an earlier year
    is recorded in the report)."""
    in_path = Path(in_path)
    size = in_path.stat().st_size if in_path.is_file() else 0
    log.info("reading %s (%.1f MiB), columns %s", in_path, size / 2**20, ", ".join(columns))
    started = time.perf_counter()
    with exit_on_delivery_error(log):
        rows, outcome = ingest(
            in_path, Path(out_path), columns, chunk_rows, resources or {}, sav_reader
        )
        record_stand_in(outcome, parse_cbs_name(in_path.name), year, log)
        if report_path is not None:
            write_report(outcome.frame(), Path(report_path))
    for row in outcome.report:
        if row["rows"] and row["action"] in (validation.REPAIR, validation.ACCEPT):
            log.info("%s %s, %s: %d rows", row["action"], row["column"], row["check"], row["rows"])
    log.info(
        "wrote %s: %d rows, %d columns, %.1f s, peak memory %s",
        out_path,
        rows,
        len(columns),
        time.perf_counter() - started,
        peak_memory(),
    )
    return rows


def ingest(
    in_path: Path, out_path: Path, columns, chunk_rows, resources: dict, sav_reader: str = "auto"
) -> tuple[int, validation.Outcome]:
    """Privacy guard on every column name of the file, conversion, validation with repairs; the
    Parquet file appears at `out_path` only when all of it succeeded. `resources` may give
    memory_limit_mb, threads and temp_directory for DuckDB."""
    privacy.check_column_names(in_path.name, file_columns(in_path), municipal=False)
    name = parse_cbs_name(in_path.name)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_next_to(out_path) as converted, temporary_next_to(out_path) as validated:
        rows = convert_to_parquet(
            in_path, converted, columns, chunk_rows=chunk_rows, sav_reader=sav_reader
        )
        outcome = validation.validate_cbs(
            converted,
            validated,
            in_path.name,
            name.stem if name else None,
            stored_as_text=text_columns(in_path, columns),
            **resources,
        )
        os.replace(validated, out_path)
    return rows, outcome


def record_stand_in(outcome: validation.Outcome, name, year, log: logging.Logger) -> None:
    """A file of an earlier register year standing in for a year not delivered: a warning and
    a register_year_fallback row in the validation report."""
    if name is None or not isinstance(year, int) or name.year == year:
        return
    detail = (
        f"no {year} file was delivered: the {name.year} file stands in for it "
        "(config cbs.missing_years)"
    )
    outcome.count("", "register_year_fallback", validation.ACCEPT, 1, detail)
    log.warning("%s", detail)


def write_report(report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_next_to(path) as temporary:
        report.write_csv(temporary)
        os.replace(temporary, path)


def peak_memory() -> str:
    """Peak resident memory of this process, where the platform reports it (not on Windows)."""
    try:
        import resource
    except ImportError:
        return "not reported on this platform"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bytes_per_unit = 1 if sys.platform == "darwin" else 1024
    return f"{peak * bytes_per_unit / 2**20:.0f} MiB"


def main_snakemake(snakemake) -> None:
    run(
        snakemake.input[0],
        snakemake.output[0],
        list(snakemake.params.columns),
        int(getattr(snakemake.params, "chunk_rows", DEFAULT_CHUNK_ROWS)),
        logs.setup(snakemake.log[0]),
        report_path=snakemake.output[1] if len(snakemake.output) > 1 else None,
        resources=db.rule_settings(snakemake),
        sav_reader=getattr(snakemake.params, "sav_reader", "auto"),
        year=getattr(snakemake.params, "year", None),
    )


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_path", help="CBS file (.sav, .csv or .parquet)")
    parser.add_argument("out_path", help="Parquet file to write")
    parser.add_argument("--columns", nargs="+", required=True, help="columns to keep (any case)")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--log", default=None, help="also write the log to this file")
    parser.add_argument("--report", default=None, help="write the validation report here")
    parser.add_argument("--sav-reader", choices=SAV_READERS, default="auto")
    args = parser.parse_args()
    run(
        args.in_path,
        args.out_path,
        args.columns,
        args.chunk_rows,
        logs.setup(args.log),
        report_path=args.report,
        sav_reader=args.sav_reader,
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        main_snakemake(snakemake)  # noqa: F821
    else:
        main_cli()
