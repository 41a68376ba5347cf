"""DuckDB connection with the month arithmetic every register query shares.

Months are integers: year * 12 + month - 1 (January 2015 = 24180). CBS dates are 'YYYYMMDD'
strings; an end date that is empty or one of the contract's sentinels means "ongoing". Queries refer
to tables by name (views over Parquet files in the workflow, registered frames in tests).
"""

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

OPEN_ENDS = ("", "20501231", "20991231", "88888888", "99991231")
ONGOING = 10**6  # a month index later than any real one

MACROS = f"""
CREATE OR REPLACE MACRO cbs_month(d) AS
    CAST(substr(d, 1, 4) AS INTEGER) * 12 + CAST(substr(d, 5, 2) AS INTEGER) - 1;
CREATE OR REPLACE MACRO cbs_open(d) AS
    (d IS NULL OR trim(d) IN ({", ".join(f"'{s}'" for s in OPEN_ENDS)}));
CREATE OR REPLACE MACRO cbs_end_month(d) AS
    CASE WHEN cbs_open(d) THEN {ONGOING} ELSE cbs_month(d) END;
CREATE OR REPLACE MACRO cbs_end_date(d) AS
    CASE WHEN cbs_open(d) THEN '99999999' ELSE d END;
CREATE OR REPLACE MACRO date_month(d) AS year(d) * 12 + month(d) - 1;
CREATE OR REPLACE MACRO month_first_day(m) AS
    printf('%04d%02d01', CAST(m // 12 AS INTEGER), CAST(m % 12 + 1 AS INTEGER));
CREATE OR REPLACE MACRO first_covered_month(d) AS
    CASE WHEN substr(d, 7, 2) = '01' THEN cbs_month(d) ELSE cbs_month(d) + 1 END;
CREATE OR REPLACE MACRO code(x) AS trim(x);
"""


def month_of(day: date | str) -> int:
    """Month index of a date or an ISO date string."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day.year * 12 + day.month - 1


def connect(
    tables: Mapping[str, str | Path | pl.DataFrame] | None = None,
    memory_limit_mb: int | None = None,
    threads: int | None = None,
    temp_directory: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the macros and a view (or registered frame) per named table."""
    con = duckdb.connect()
    if memory_limit_mb:
        con.execute(f"SET memory_limit = '{int(memory_limit_mb)}MB'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        con.execute(f"SET temp_directory = '{temp_directory}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(MACROS)
    for name, source in (tables or {}).items():
        attach(con, name, source)
    return con


def attach(con: duckdb.DuckDBPyConnection, name: str, source) -> None:
    if isinstance(source, pl.DataFrame):
        con.register(name, source)
    elif isinstance(source, (list, tuple)):
        files = ", ".join(f"'{Path(p).as_posix()}'" for p in source)
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{files}])")
    else:
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{Path(source).as_posix()}')"
        )


def attach_yearly(
    con: duckdb.DuckDBPyConnection, name: str, files: Mapping[int, str | Path]
) -> None:
    """One view over yearly files of a table, with their register year as column `year`."""
    parts = [
        f"SELECT *, {int(year)} AS year FROM read_parquet('{Path(path).as_posix()}')"
        for year, path in sorted(files.items())
    ]
    con.execute(f"CREATE OR REPLACE VIEW {name} AS {' UNION ALL '.join(parts)}")


def rule_settings(snakemake) -> dict:
    """memory_limit_mb, threads and temp_directory of `connect` for a rule's job: memory from
    the rule's mem_mb, threads and spill directory from the config's `duckdb` section (else the
    rule's threads and the job's tmpdir)."""
    resources = getattr(snakemake, "resources", None)
    configured = (getattr(snakemake, "config", None) or {}).get("duckdb")
    if configured is None:
        threads, directory = getattr(snakemake, "threads", None), None
    else:
        threads, directory = configured["threads"] or os.cpu_count(), configured["temp_directory"]
    return {
        "memory_limit_mb": getattr(resources, "mem_mb", None),
        "threads": threads,
        "temp_directory": directory or getattr(resources, "tmpdir", None),
    }


def connect_rule(snakemake, yearly: tuple[str, ...] = ("education", "debts", "medicines")):
    """DuckDB for a rule script: a view per named input (yearly inputs `<kind>_<year>` unioned
    into one view per kind), memory and threads from the rule's resources, spilling where the
    config's duckdb.temp_directory says (else the job's tmpdir)."""
    con = connect(**rule_settings(snakemake))
    grouped: dict[str, dict[int, str]] = {}
    for name, path in snakemake.input.items():
        kind, _, year = name.rpartition("_")
        if kind in yearly and year.isdigit():
            grouped.setdefault(kind, {})[int(year)] = path
        elif str(path).endswith(".parquet"):
            attach(con, name, path)
    for kind, files in grouped.items():
        attach_yearly(con, kind, files)
    return con


def date_month_expr(column: str) -> pl.Expr:
    """The month index of a Date column, as a polars expression (same as the SQL macro)."""
    return pl.col(column).dt.year() * 12 + pl.col(column).dt.month() - 1
