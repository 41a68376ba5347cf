"""The study population and the linkage report, as DuckDB SQL over the ingested registers.

Tables (views) the queries expect: secm (SECMBUS), persons (GBAPERSOONTAB), addresses
(GBAADRESOBJECTBUS), municipalities (VSLGWBTAB with GEM<yyyy> columns), benefits (cleaned
uitkeringen with a `linked` flag and Date columns).

Study population: residents of the municipality with at least one month of bijstand (SECM 22, or a
PW benefit in the municipal extract) in the study window, aged age_min..age_max-1 at the reference
date. The reference month is the first such month; a person lives in the municipality in a month
when the address spell covering the first day of that month is an object whose GEM<year> is the
municipality.
"""

from dataclasses import dataclass

import duckdb
import polars as pl

from wwvw.core.db import month_of

# the config `cohort` keys that define the study population (a rule receives only these)
WINDOW_KEYS = ("study_start", "study_end", "age_min", "age_max")


@dataclass(frozen=True)
class Window:
    first: int  # month index
    last: int
    municipality: str
    age_min: int
    age_max: int

    @classmethod
    def from_config(cls, cohort: dict, municipality: str) -> "Window":
        return cls(
            month_of(cohort["study_start"]),
            month_of(cohort["study_end"]),
            municipality,
            cohort["age_min"],
            cohort["age_max"],
        )


def bijstand_spells_sql(w: Window) -> str:
    """Bijstand spells (SECM 22 spells and PW benefits) clipped to the window, as month ranges
    s..e; only those with a month in the window."""
    return f"""
    WITH spells AS (
        SELECT RINPERSOONS, RINPERSOON,
               greatest(cbs_month(AANVSECM), {w.first}) AS s,
               least(cbs_end_month(EINDSECM), {w.last}) AS e
        FROM secm
        WHERE code(SECM) = '22'
        UNION ALL
        SELECT RINPERSOONS, RINPERSOON,
               greatest(date_month(DATUM_AANVANG), {w.first}),
               least(coalesce(date_month(DATUM_EINDE), {10**6}), {w.last})
        FROM benefits
        WHERE linked AND upper(REGELING) = 'PW'
    )
    SELECT * FROM spells WHERE s <= e
    """


def spell_months_sql(spells: str, persons: str | None = None) -> str:
    """Distinct person-months of the month-range spells (columns s, e) in `spells` (a table, or
    a query in parentheses); only of the persons in table `persons` when given."""
    only = f" SEMI JOIN {persons} USING (RINPERSOONS, RINPERSOON)" if persons else ""
    return f"""
    SELECT DISTINCT RINPERSOONS, RINPERSOON, unnest(range(s, e + 1)) AS month
    FROM {spells}{only} WHERE s <= e
    """


def municipality_objects_sql(municipality: str) -> str:
    """(SOORTOBJECTNUMMER, RINOBJECTNUMMER, year) of every address object in the municipality in
    a year, from the GEM<year> columns of VSLGWBTAB (table municipalities)."""
    return f"""
    SELECT SOORTOBJECTNUMMER, RINOBJECTNUMMER, CAST(substr(gem_year, 4, 4) AS INTEGER) AS year
    FROM (
        UNPIVOT (SELECT SOORTOBJECTNUMMER, RINOBJECTNUMMER, COLUMNS('^GEM[0-9]{{4}}$') FROM municipalities)
        ON COLUMNS('^GEM[0-9]{{4}}$') INTO NAME gem_year VALUE gem
    )
    WHERE code(gem) = '{municipality}'
    """


def resident_months_sql(w: Window, persons_table: str) -> str:
    """Person-months (in the window) living in the municipality, for the persons in persons_table.
    Only address spells at objects that lie in the municipality in some year are split into
    months (the others cannot give a resident month)."""
    return f"""
    WITH gem AS ({municipality_objects_sql(w.municipality)}),
    spells AS (
        SELECT a.RINPERSOONS, a.RINPERSOON, a.SOORTOBJECTNUMMER, a.RINOBJECTNUMMER,
               greatest(first_covered_month(GBADATUMAANVANGADRESHOUDING), {w.first}) AS s,
               least(cbs_end_month(GBADATUMEINDEADRESHOUDING), {w.last}) AS e
        FROM addresses a
        SEMI JOIN {persons_table} p USING (RINPERSOONS, RINPERSOON)
        SEMI JOIN gem g USING (SOORTOBJECTNUMMER, RINOBJECTNUMMER)
    ),
    months AS (
        SELECT RINPERSOONS, RINPERSOON, SOORTOBJECTNUMMER, RINOBJECTNUMMER,
               unnest(range(s, e + 1)) AS month
        FROM spells WHERE s <= e
    )
    SELECT DISTINCT m.RINPERSOONS, m.RINPERSOON, m.month
    FROM months m
    JOIN gem g
      ON g.SOORTOBJECTNUMMER = m.SOORTOBJECTNUMMER AND g.RINOBJECTNUMMER = m.RINOBJECTNUMMER
     AND g.year = m.month // 12
    """


def study_population(
    con: duckdb.DuckDBPyConnection, w: Window
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(persons with their reference month and age, flow of persons left after each step)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE bijstand_spells AS {bijstand_spells_sql(w)}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bijstand_persons AS "
        "SELECT DISTINCT RINPERSOONS, RINPERSOON FROM bijstand_spells"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE resident AS {resident_months_sql(w, 'bijstand_persons')}"
    )
    # months of bijstand only for those with a resident month (most recipients nationally have none)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bijstand AS "
        + spell_months_sql("bijstand_spells", persons="resident")
    )
    population = con.sql(
        """
        WITH first_month AS (
            SELECT RINPERSOONS, RINPERSOON, min(month) AS reference_month
            FROM bijstand JOIN resident USING (RINPERSOONS, RINPERSOON, month)
            GROUP BY ALL
        )
        SELECT f.RINPERSOONS, f.RINPERSOON, f.reference_month,
               (f.reference_month - (TRY_CAST(p.GBAGEBOORTEJAAR AS INTEGER) * 12
                                    + TRY_CAST(p.GBAGEBOORTEMAAND AS INTEGER) - 1)) // 12 AS age,
               p.RINPERSOON IS NOT NULL AS in_population_register
        FROM first_month f
        LEFT JOIN persons p USING (RINPERSOONS, RINPERSOON)
        ORDER BY f.RINPERSOONS, f.RINPERSOON
        """
    ).pl()
    n_bijstand = con.execute("SELECT count(*) FROM bijstand_persons").fetchall()[0][0]
    in_age = population.filter(pl.col("age").is_between(w.age_min, w.age_max - 1))
    flow = pl.DataFrame(
        {
            "step": ["bijstand_in_window", "resident", "age"],
            "description": [
                "persons with at least one month of bijstand (SECM 22 or a PW benefit) in the study window",
                "... in a month in which they lived in the municipality",
                f"... aged {w.age_min} to {w.age_max - 1} at the reference date (study population)",
            ],
            "n": [n_bijstand, population.height, in_age.height],
        }
    )
    return in_age.drop("in_population_register"), flow


def linkage_report(con: duckdb.DuckDBPyConnection, sources: dict[str, str]) -> pl.DataFrame:
    """Per source table: rows, distinct persons, persons found in GBAPERSOONTAB, unlinked rows.

    `sources` maps a source label to a table name; municipal tables carry a `linked` flag (empty
    RIN), CBS tables do not. A row is unlinked when its person is not in the population register
    (table `persons`). Each table is first counted per key pair (one hash aggregate over its
    rows), so the register is probed once per person, not once per row: a hundred million spells
    are 17 million persons; the key pairs of all tables are probed in one join (one hash table
    of the register, not one per table). A key pair is one group, so persons are counted without
    DISTINCT, and the register is probed with EXISTS, so a duplicated register key cannot double
    a count.

    The register itself (a source whose table is `persons`) is counted, not probed: each of its
    persons is found in it by definition, and ingest_cbs stopped on a duplicated key, so its
    persons are its rows with a key (at national scale this saves a 17-million-key aggregate and
    its probe, about a quarter of the job).
    """

    def key_flag(table: str) -> str:
        columns = {c[0] for c in con.sql(f"DESCRIBE {table}").fetchall()}
        if "linked" in columns:
            return "linked"
        return "coalesce(RINPERSOONS, '') <> '' AND coalesce(RINPERSOON, '') <> ''"

    probed = {label: table for label, table in sources.items() if table != "persons"}
    parts = [
        f"SELECT '{label}' AS source, RINPERSOONS, RINPERSOON, {key_flag(table)} AS linked, "
        f"count(*) AS n FROM {table} GROUP BY ALL"
        for label, table in probed.items()
    ]
    counted = [
        f"SELECT '{label}' AS source, count(*) AS rows, count(*) FILTER (WHERE has_key) AS persons, "
        "count(*) FILTER (WHERE has_key) AS linked_persons, "
        f"count(*) FILTER (WHERE NOT has_key) AS unlinked_rows "
        f"FROM (SELECT {key_flag(table)} AS has_key FROM {table})"
        for label, table in sources.items()
        if table == "persons"
    ]
    queries = list(counted)
    if parts:
        queries.append(
            f"""
            SELECT source,
                   sum(n) AS rows,
                   count(*) FILTER (WHERE linked) AS persons,
                   count(*) FILTER (WHERE found) AS linked_persons,
                   coalesce(sum(n) FILTER (WHERE NOT found), 0) AS unlinked_rows
            FROM (
                SELECT source, linked, n, EXISTS (
                    SELECT 1 FROM persons r
                    WHERE r.RINPERSOONS = t.RINPERSOONS AND r.RINPERSOON = t.RINPERSOON
                ) AS found
                FROM ({" UNION ALL ".join(parts)}) t
            )
            GROUP BY source
            """
        )
    frame = con.sql(f"SELECT * FROM ({' UNION ALL '.join(queries)}) ORDER BY source").pl()
    return frame.with_columns(
        pl.col("rows", "persons", "linked_persons", "unlinked_rows").cast(pl.Int64)
    )


def chronic_prevalence_sql(year: int, municipality: str) -> str:
    """Residents of the municipality in `year` (address on the first day of any month), split by a
    month of bijstand in that year while resident; one row per person with their condition groups
    from the medicines of that year. Tables: addresses, municipalities, secm, benefits, medicines,
    atc_groups. Spells are compared as month ranges (a bijstand range overlapping a resident
    range), not split into months: a whole municipality's residents times twelve months was
    most of the job's time."""
    first, last = year * 12, year * 12 + 11
    w = Window(first, last, municipality, 0, 200)
    return f"""
    WITH objects AS (
        SELECT SOORTOBJECTNUMMER, RINOBJECTNUMMER FROM municipalities
        WHERE code(GEM{year}) = '{municipality}'
    ),
    spells AS (
        SELECT a.RINPERSOONS, a.RINPERSOON,
               greatest(first_covered_month(GBADATUMAANVANGADRESHOUDING), {first}) AS s,
               least(cbs_end_month(GBADATUMEINDEADRESHOUDING), {last}) AS e
        FROM addresses a SEMI JOIN objects o USING (SOORTOBJECTNUMMER, RINOBJECTNUMMER)
    ),
    resident AS (SELECT * FROM spells WHERE s <= e),
    bijstand AS (  -- a month of bijstand while resident: a bijstand spell overlaps a resident one
        SELECT DISTINCT RINPERSOONS, RINPERSOON
        FROM ({bijstand_spells_sql(w)}) b JOIN resident r USING (RINPERSOONS, RINPERSOON)
        WHERE greatest(b.s, r.s) <= least(b.e, r.e)
    ),
    conditions AS (
        SELECT m.RINPERSOONS, m.RINPERSOON, list(DISTINCT g.condition ORDER BY g.condition) AS groups
        FROM medicines m JOIN atc_groups g ON g.ATC4 = upper(code(m.ATC4))
        WHERE m.year = {year}
        GROUP BY ALL
    )
    SELECT r.RINPERSOONS, r.RINPERSOON,
           CASE WHEN b.RINPERSOON IS NULL THEN 'rest' ELSE 'bijstand' END AS group_name,
           coalesce(c.groups, []) AS groups
    FROM (SELECT DISTINCT RINPERSOONS, RINPERSOON FROM resident) r
    LEFT JOIN bijstand b USING (RINPERSOONS, RINPERSOON)
    LEFT JOIN conditions c USING (RINPERSOONS, RINPERSOON)
    """


def chronic_prevalence(
    con: duckdb.DuckDBPyConnection, year: int, municipality: str, conditions: list[str]
) -> pl.DataFrame:
    """Figure 1: per group (bijstand recipients, rest of the municipality) the number of residents
    and the number and share with each condition group and with three or more."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE residents AS {chronic_prevalence_sql(year, municipality)}"
    )
    counts = ", ".join(
        f"count(*) FILTER (WHERE list_contains(groups, '{c}')) AS {c}" for c in conditions
    )
    rows = con.sql(
        f"""
        SELECT group_name, count(*) AS n, {counts},
               count(*) FILTER (WHERE len(groups) >= 3) AS three_or_more
        FROM residents GROUP BY group_name ORDER BY group_name
        """
    ).pl()
    long = rows.unpivot(index=["group_name", "n"], variable_name="condition", value_name="n_with")
    return (
        long.with_columns((100 * pl.col("n_with") / pl.col("n")).round(1).alias("pct"))
        .rename({"group_name": "group"})
        .with_columns(pl.lit(year).alias("year"))
    )
