"""The analysis cohort: a PW benefit that starts in the benefit-start year, and a referral to one of the
three departments within the referral window after that start.

Rules chosen here (documented in the README):
- PW records of one person that overlap or touch (next start <= previous end + 1 day) form one
  benefit period; a period's start is the benefit start. A person's benefit start is the first
  period start in the benefit-start year.
- Of the person's intakes, the one used is the earliest referral (by referral date, then intake
  date, then caseworker code) to Matching, Prematching or Activering dated from the benefit start up
  to and including the same day `referral_window_months` later (DuckDB's month arithmetic: the
  31st plus one month gives the last day of the next month). Intakes without a referral date, to
  another department, before the benefit start or after the window are not used.
- The assignment cell is the intake location by calendar quarter of the intake date.
Tables: benefits (clean uitkeringen), intakes (clean werkintake with department, location),
population (study population).
"""

import duckdb
import polars as pl

DEPARTMENTS = ("matching", "prematching", "activering")
# the config `cohort` keys that select the analysis cohort (a rule receives only these)
COHORT_KEYS = ("benefit_start_year", "referral_window_months")


def benefit_starts_sql(year: int) -> str:
    return f"""
    WITH pw AS (
        SELECT RINPERSOONS, RINPERSOON, DATUM_AANVANG AS s,
               coalesce(DATUM_EINDE, DATE '9999-12-31') AS e
        FROM benefits
        WHERE linked AND upper(REGELING) = 'PW' AND DATUM_AANVANG IS NOT NULL
    ),
    ordered AS (
        SELECT *, max(e) OVER (PARTITION BY RINPERSOONS, RINPERSOON ORDER BY s, e
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
        FROM pw
    ),
    periods AS (
        SELECT RINPERSOONS, RINPERSOON, s AS period_start
        FROM ordered
        WHERE previous_end IS NULL OR s > previous_end + INTERVAL 1 DAY
    )
    SELECT RINPERSOONS, RINPERSOON, min(period_start) AS benefit_start
    FROM periods
    WHERE year(period_start) = {year}
    GROUP BY ALL
    """


def referrals_sql(window_months: int) -> str:
    departments = ", ".join(f"'{d}'" for d in DEPARTMENTS)
    return f"""
    SELECT b.RINPERSOONS, b.RINPERSOON, b.benefit_start,
           i.INTAKEDATUM AS intake_date, i.VERWIJSDATUM AS referral_date,
           i.location, i.caseworker, i.department,
           year(i.INTAKEDATUM) || 'Q' || quarter(i.INTAKEDATUM) AS intake_period
    FROM starts b
    JOIN intakes i USING (RINPERSOONS, RINPERSOON)
    WHERE i.linked
      AND i.department IN ({departments})
      AND i.VERWIJSDATUM IS NOT NULL
      AND i.VERWIJSDATUM >= b.benefit_start
      AND i.VERWIJSDATUM <= b.benefit_start + INTERVAL {int(window_months)} MONTH
    QUALIFY row_number() OVER (
        PARTITION BY b.RINPERSOONS, b.RINPERSOON
        ORDER BY i.VERWIJSDATUM, i.INTAKEDATUM, i.caseworker, i.department) = 1
    """


def analysis_cohort(
    con: duckdb.DuckDBPyConnection, year: int, window_months: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(cohort rows with benefit start, referral, caseworker, cell; flow steps after the population)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE starts AS "
        f"SELECT * FROM ({benefit_starts_sql(year)}) SEMI JOIN population USING (RINPERSOONS, RINPERSOON)"
    )
    cohort = con.sql(
        f"SELECT * FROM ({referrals_sql(window_months)}) ORDER BY RINPERSOONS, RINPERSOON"
    ).pl()
    n_starts = con.execute("SELECT count(*) FROM starts").fetchall()[0][0]
    flow = pl.DataFrame(
        {
            "step": ["benefit_start", "referral"],
            "description": [
                f"... with a PW benefit period starting in {year}",
                f"... referred to Matching, Prematching or Activering within {window_months} "
                "months of that start (analysis cohort)",
            ],
            "n": [n_starts, cohort.height],
        }
    )
    return cohort, flow
