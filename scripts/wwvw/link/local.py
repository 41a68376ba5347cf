"""The national registers restricted, in one pass each, to the persons the study can use.

Inside CBS Remote Access the registers are national (17 million persons, a hundred million SECMBUS
spells); the study needs the records of a few hundred thousand residents and of the bijstand
recipients (about a million persons at national scale). `restrict_registers` writes
every person-level register limited to the local persons, and VSLGWBTAB limited to the address
objects that lie in the municipality in any year, so the study population, the covariates and the
prevalence figure read small files instead of each scanning the national ones again.

Local persons (a superset of everyone any later step selects, whatever the study window):
- everyone with an address spell at an object that lies in the municipality in some GEM<year>
  (every resident, of any year: the study population, its covariates, the prevalence figure);
- everyone with a SECM 22 (bijstand) spell, of any period, or a linked benefit in the municipal
  extract: the first step of the population flow counts bijstand recipients before the
  residence filter, so they and their address spells must stay.
Every record of a local person is kept (addresses elsewhere too), so the later steps give the same
results on the local files as on the national ones.

Tables (views) the queries expect: addresses, municipalities, secm, benefits, persons, and the
registers to restrict (any that have RINPERSOONS and RINPERSOON).
"""

import logging
import shutil
from pathlib import Path

import duckdb

from wwvw.link.population import municipality_objects_sql

log = logging.getLogger("wwvw.link.local")

# at or above this share of GBAPERSOONTAB, the registers are copied instead of restricted
MAX_LOCAL_SHARE = 0.5
KEY = "RINPERSOONS, RINPERSOON"
OBJECT_KEY = "SOORTOBJECTNUMMER, RINOBJECTNUMMER"


def local_objects_sql(municipality: str) -> str:
    """Address objects (SOORTOBJECTNUMMER, RINOBJECTNUMMER) in the municipality in any year."""
    return f"SELECT DISTINCT {OBJECT_KEY} FROM ({municipality_objects_sql(municipality)})"


LOCAL_PERSONS_SQL = f"""
    SELECT {KEY} FROM addresses SEMI JOIN local_objects USING ({OBJECT_KEY})
    UNION
    SELECT {KEY} FROM secm WHERE code(SECM) = '22'
    UNION
    SELECT {KEY} FROM benefits WHERE linked
"""


def restrict_registers(
    con: duckdb.DuckDBPyConnection,
    municipality: str,
    outputs: dict[str, str | Path],
    sources: dict[str, str | Path],
    max_share: float = MAX_LOCAL_SHARE,
) -> dict[str, tuple[int, int]]:
    """Write each table in `outputs` (name -> Parquet path) restricted to the local persons
    (`municipalities` to the local objects), read from its Parquet file in `sources` (name ->
    path). Rows keep the order of that file (its row numbers), so a rerun writes the same bytes
    although a parallel join does not keep the order; ordering on one integer costs a fifth of
    ordering on every column (measured at national scale). Returns {name: (rows read, rows kept)}.

    When the local persons are `max_share` or more of GBAPERSOONTAB (a municipality's own
    extract, the small synthetic default), restricting would keep most rows and only cost a
    rewrite: the files are then copied as they are. Later steps give the same results either
    way."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE local_objects AS {local_objects_sql(municipality)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE local_persons AS {LOCAL_PERSONS_SQL}")
    local, everyone = con.execute(
        "SELECT (SELECT count(*) FROM local_persons), (SELECT count(*) FROM persons)"
    ).fetchall()[0]
    copy = local >= max_share * everyone
    log.info(
        "local persons: %d of %d in GBAPERSOONTAB (%.0f%%): registers %s",
        local,
        everyone,
        100 * local / max(everyone, 1),
        "copied whole" if copy else "restricted to them",
    )
    counts = {}
    for name, path in outputs.items():
        source = Path(sources[name]).as_posix()
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{source}')").fetchall()[0][0]
        if copy:
            shutil.copyfile(source, path)
            counts[name] = (rows, rows)
            continue
        key = OBJECT_KEY if name == "municipalities" else KEY
        kept = "local_objects" if name == "municipalities" else "local_persons"
        written = con.execute(  # COPY returns the number of rows it wrote
            "COPY (SELECT * EXCLUDE (file_row_number) "
            f"FROM read_parquet('{source}', file_row_number = true) "
            f"SEMI JOIN {kept} USING ({key}) ORDER BY file_row_number) "
            f"TO '{Path(path).as_posix()}' (FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()[0][0]
        counts[name] = (rows, written)
    return counts
