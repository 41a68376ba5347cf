"""Covariates at an anchor month (reference date or benefit start) and the work outcome after it.

Input table `anchors(RINPERSOONS, RINPERSOON, anchor_month)`; registers as views: persons,
secm, education(year, ...), debts(year, ...), medicines(year, ...), households, atc_groups(ATC4,
condition). The anchor date is the first day of the anchor month. Definitions (Table 1):
- age in completed years from birth year and month; groups [18,30), [30,45), [45,55), [55,65);
- education from HOOGSTEOPLTAB of the anchor year: first SOI digit 1 low, 2 middle, 3 high;
  absent or '----' unknown;
- months in paid work (SECM 11-14) in the `work_history_months` before the anchor month;
- migration background from GBAHERKOMSTGROEPERING (groups of country codes in config);
- chronic conditions: distinct condition groups of the ATC4 codes dispensed in the year before
  the anchor year (MEDICIJNTAB);
- debts: registered premium defaulter on 31 December before the anchor year (WANBZVWTAB);
- single (PLHH 2 or 7) and children (AANTALKINDHH > 0 with PLHH 3-7) from the household spell
  covering the anchor date.
Outcome: the first run of consecutive months in paid work (whatever the spells and SECM codes
11-14) that starts 1..followup_months after the anchor month and whose first outcome_min_months
months lie on or before the end of follow-up. months_to_work is its start minus the anchor month;
followup_window is the latest start that could still count (0: none could).
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

from wwvw.core.db import month_of

WORK_CODES = ("11", "12", "13", "14")
AGE_GROUPS = ((18, 30), (30, 45), (45, 55), (55, 65))


# the config `cohort` keys of the covariates and the outcome (a rule receives only these)
RULES_KEYS = ("work_history_months", "outcome_min_months", "followup_months", "followup_end")


@dataclass(frozen=True)
class Rules:
    work_history_months: int
    outcome_min_months: int
    followup_months: int
    followup_end: int  # month index

    @classmethod
    def from_config(cls, cohort: dict) -> "Rules":
        return cls(
            cohort["work_history_months"],
            cohort["outcome_min_months"],
            cohort["followup_months"],
            month_of(cohort["followup_end"]),
        )


def condition_table(path: str | Path) -> pl.DataFrame:
    """(ATC4, condition) pairs from the chronic-condition mapping in config."""
    groups = yaml.safe_load(Path(path).read_text())["groups"]
    return pl.DataFrame(
        [(atc.upper(), group) for group, codes in groups.items() for atc in codes],
        schema=["ATC4", "condition"],
        orient="row",
    )


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def covariates_sql(rules: Rules, migration_groups: dict[str, list[str]]) -> str:
    age_case = " ".join(
        f"WHEN age >= {lo} AND age < {hi} THEN '{lo}-{hi}'" for lo, hi in AGE_GROUPS
    )
    migration_case = " ".join(
        f"WHEN code(p.GBAHERKOMSTGROEPERING) IN ({_in(codes)}) THEN '{group}'"
        for group, codes in migration_groups.items()
    )
    work = _in(WORK_CODES)
    h = rules.work_history_months
    return f"""
    WITH base AS (
        SELECT a.RINPERSOONS, a.RINPERSOON, a.anchor_month,
               CASE code(p.GBAGESLACHT) WHEN '1' THEN 'man' WHEN '2' THEN 'woman' ELSE 'unknown' END AS sex,
               (a.anchor_month - (TRY_CAST(p.GBAGEBOORTEJAAR AS INTEGER) * 12
                                  + TRY_CAST(p.GBAGEBOORTEMAAND AS INTEGER) - 1)) // 12 AS age,
               CASE {migration_case}
                    WHEN coalesce(code(p.GBAHERKOMSTGROEPERING), '') IN ('', '----', '0000') THEN 'unknown'
                    ELSE 'other' END AS migration
        FROM anchors a
        LEFT JOIN persons p USING (RINPERSOONS, RINPERSOON)
    ),
    edu AS (
        SELECT a.RINPERSOONS, a.RINPERSOON,
               CASE substr(code(e.OPLNIVSOI2016AGG4HBMETNIRWO), 1, 1)
                    WHEN '1' THEN 'low' WHEN '2' THEN 'middle' WHEN '3' THEN 'high' END AS education
        FROM anchors a
        JOIN education e
          ON e.RINPERSOONS = a.RINPERSOONS AND e.RINPERSOON = a.RINPERSOON
         AND e.year = a.anchor_month // 12
    ),
    worked AS (
        SELECT a.RINPERSOONS, a.RINPERSOON,
               sum(least(cbs_end_month(s.EINDSECM), a.anchor_month - 1)
                   - greatest(cbs_month(s.AANVSECM), a.anchor_month - {h}) + 1) AS work_months
        FROM anchors a
        JOIN secm s USING (RINPERSOONS, RINPERSOON)
        WHERE code(s.SECM) IN ({work})
          AND cbs_month(s.AANVSECM) <= a.anchor_month - 1
          AND cbs_end_month(s.EINDSECM) >= a.anchor_month - {h}
        GROUP BY ALL
    ),
    chronic AS (
        SELECT a.RINPERSOONS, a.RINPERSOON, count(DISTINCT g.condition) AS chronic_n
        FROM anchors a
        JOIN medicines m
          ON m.RINPERSOONS = a.RINPERSOONS AND m.RINPERSOON = a.RINPERSOON
         AND m.year = a.anchor_month // 12 - 1
        JOIN atc_groups g ON g.ATC4 = upper(code(m.ATC4))
        GROUP BY ALL
    ),
    debt AS (
        SELECT DISTINCT a.RINPERSOONS, a.RINPERSOON
        FROM anchors a
        JOIN debts d
          ON d.RINPERSOONS = a.RINPERSOONS AND d.RINPERSOON = a.RINPERSOON
         AND d.year = a.anchor_month // 12 - 1
    ),
    household AS (
        SELECT a.RINPERSOONS, a.RINPERSOON,
               TRY_CAST(code(h.PLHH) AS INTEGER) AS plhh,
               TRY_CAST(code(h.AANTALKINDHH) AS INTEGER) AS kids
        FROM anchors a
        JOIN households h
          ON h.RINPERSOONS = a.RINPERSOONS AND h.RINPERSOON = a.RINPERSOON
         AND h.DATUMAANVANGHH <= month_first_day(a.anchor_month)
         AND cbs_end_date(h.DATUMEINDEHH) >= month_first_day(a.anchor_month)
    )
    SELECT b.RINPERSOONS, b.RINPERSOON, b.anchor_month, b.sex, b.age,
           CASE {age_case} ELSE 'other' END AS age_group,
           coalesce(edu.education, 'unknown') AS education,
           coalesce(w.work_months, 0) AS work_months,
           CASE WHEN coalesce(w.work_months, 0) = 0 THEN 'none'
                WHEN w.work_months <= 12 THEN 'up_to_12' ELSE 'over_12' END AS work_history,
           b.migration,
           coalesce(c.chronic_n, 0) AS chronic_n,
           CASE WHEN coalesce(c.chronic_n, 0) >= 3 THEN '3+' ELSE CAST(coalesce(c.chronic_n, 0) AS VARCHAR) END AS chronic,
           d.RINPERSOON IS NOT NULL AS debts,
           coalesce(hh.plhh IN (2, 7), false) AS single,
           coalesce(hh.plhh BETWEEN 3 AND 7 AND hh.kids > 0, false) AS children,
           hh.plhh IS NOT NULL AS household_known
    FROM base b
    LEFT JOIN edu USING (RINPERSOONS, RINPERSOON)
    LEFT JOIN worked w USING (RINPERSOONS, RINPERSOON)
    LEFT JOIN chronic c USING (RINPERSOONS, RINPERSOON)
    LEFT JOIN debt d USING (RINPERSOONS, RINPERSOON)
    LEFT JOIN household hh USING (RINPERSOONS, RINPERSOON)
    ORDER BY b.RINPERSOONS, b.RINPERSOON
    """


def outcome_sql(rules: Rules) -> str:
    last_start = rules.followup_end - (rules.outcome_min_months - 1)
    horizon = rules.followup_months + rules.outcome_min_months - 1
    return f"""
    WITH months AS (
        SELECT DISTINCT a.RINPERSOONS, a.RINPERSOON, a.anchor_month,
               unnest(range(greatest(cbs_month(s.AANVSECM), a.anchor_month),
                            least(cbs_end_month(s.EINDSECM), a.anchor_month + {horizon},
                                  {rules.followup_end}) + 1)) AS month
        FROM anchors a
        JOIN secm s USING (RINPERSOONS, RINPERSOON)
        WHERE code(s.SECM) IN ({_in(WORK_CODES)})
          AND cbs_end_month(s.EINDSECM) >= a.anchor_month
          AND cbs_month(s.AANVSECM) <= least(a.anchor_month + {horizon}, {rules.followup_end})
    ),
    runs AS (
        SELECT RINPERSOONS, RINPERSOON, anchor_month, min(month) AS start, count(*) AS length
        FROM (SELECT *, month - row_number() OVER (
                  PARTITION BY RINPERSOONS, RINPERSOON ORDER BY month) AS island
              FROM months)
        GROUP BY RINPERSOONS, RINPERSOON, anchor_month, island
    ),
    qualifying AS (
        SELECT RINPERSOONS, RINPERSOON, min(start - anchor_month) AS months_to_work
        FROM runs
        WHERE start - anchor_month BETWEEN 1 AND {rules.followup_months}
          AND length >= {rules.outcome_min_months}
        GROUP BY ALL
    )
    SELECT a.RINPERSOONS, a.RINPERSOON,
           q.months_to_work IS NOT NULL AS outcome,
           CAST(q.months_to_work AS INTEGER) AS months_to_work,
           CAST(greatest(least({rules.followup_months}, {last_start} - a.anchor_month), 0) AS INTEGER)
               AS followup_window
    FROM anchors a
    LEFT JOIN qualifying q USING (RINPERSOONS, RINPERSOON)
    ORDER BY a.RINPERSOONS, a.RINPERSOON
    """


def characteristics(
    con: duckdb.DuckDBPyConnection, rules: Rules, migration_groups: dict[str, list[str]]
) -> pl.DataFrame:
    """Covariates and outcome per anchor row (anchors must be unique per person)."""
    covariates = con.sql(covariates_sql(rules, migration_groups)).pl()
    outcome = con.sql(outcome_sql(rules)).pl()
    return covariates.join(outcome, on=["RINPERSOONS", "RINPERSOON"], how="left", validate="1:1")
