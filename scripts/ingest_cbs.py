"""Rule script: convert one chosen CBS file to Parquet with the study's columns, all as strings.

Run by Snakemake (input[0] the chosen file, output[0] the Parquet file, params.columns,
params.chunk_rows, log[0]), or by hand for debugging:
    python scripts/ingest_cbs.py IN OUT --columns RINPERSOONS RINPERSOON SECM [--chunk-rows N]

The log names the file, its size, the rows written, the time and the peak memory; never a value.
"""

import argparse
import logging
import sys
import time
from pathlib import Path

from wwvw import logs
from wwvw.ingest import InputError, convert_to_parquet

DEFAULT_CHUNK_ROWS = 1_000_000


def run(in_path, out_path, columns, chunk_rows, log: logging.Logger) -> int:
    """Convert one file and log what was done; an InputError is logged and ends the process."""
    in_path = Path(in_path)
    size = in_path.stat().st_size if in_path.is_file() else 0
    log.info("reading %s (%.1f MiB), columns %s", in_path, size / 2**20, ", ".join(columns))
    started = time.perf_counter()
    try:
        rows = convert_to_parquet(in_path, out_path, columns, chunk_rows=chunk_rows)
    except InputError as error:
        log.error("%s", error)
        sys.exit(1)
    log.info(
        "wrote %s: %d rows, %d columns, %.1f s, peak memory %s",
        out_path,
        rows,
        len(columns),
        time.perf_counter() - started,
        peak_memory(),
    )
    return rows


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
    )


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_path", help="CBS file (.sav, .csv or .parquet)")
    parser.add_argument("out_path", help="Parquet file to write")
    parser.add_argument("--columns", nargs="+", required=True, help="columns to keep (any case)")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    parser.add_argument("--log", default=None, help="also write the log to this file")
    args = parser.parse_args()
    run(args.in_path, args.out_path, args.columns, args.chunk_rows, logs.setup(args.log))


if __name__ == "__main__":
    if "snakemake" in globals():
        main_snakemake(snakemake)  # noqa: F821
    else:
        main_cli()
