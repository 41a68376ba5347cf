"""Tables 1 and 2 of the study and the intervention categories by department (person-level in,
aggregates out; disclosure control happens at export)."""

import polars as pl

from wwvw.cohort.registry import REGISTRY

# Table 1's rows: every characteristic of the registry, levels in Table 1 order
TABLE1_CHARACTERISTICS = {c.name: list(c.levels) for c in REGISTRY}
DEPARTMENTS = ["matching", "prematching", "activering"]


def _as_levels(frame: pl.DataFrame, characteristic: str) -> pl.Series:
    column = frame[characteristic]
    if column.dtype == pl.Boolean:
        return column.replace_strict({True: "yes", False: "no"}, return_dtype=pl.String)
    return column.cast(pl.String)


def table1(population: pl.DataFrame) -> pl.DataFrame:
    """characteristic, level, n, pct (of all), n_started, pct_started (of all starters).

    Levels with nobody are kept (n = 0) except 'unknown' levels, which appear only when used."""
    total = population.height
    started_total = int(population["outcome"].sum())
    rows = [
        {
            "characteristic": "total",
            "level": "all",
            "n": total,
            "pct": 100.0,
            "n_started": started_total,
            "pct_started": 100.0,
        }
    ]
    for characteristic, levels in TABLE1_CHARACTERISTICS.items():
        values = _as_levels(population, characteristic)
        for level in levels:
            members = values == level
            n = int(members.sum())
            if level == "unknown" and n == 0:
                continue
            n_started = int((members & population["outcome"]).sum())
            rows.append(
                {
                    "characteristic": characteristic,
                    "level": level,
                    "n": n,
                    "pct": round(100 * n / total, 1) if total else None,
                    "n_started": n_started,
                    "pct_started": round(100 * n_started / started_total, 1)
                    if started_total
                    else None,
                }
            )
    return pl.DataFrame(rows)


def table2(cohort: pl.DataFrame) -> pl.DataFrame:
    """department, n, n_started, pct_started (share of the department that started work)."""
    counts = cohort.group_by("department").agg(
        pl.len().alias("n"), pl.col("outcome").sum().alias("n_started")
    )
    frame = pl.DataFrame({"department": DEPARTMENTS}).join(counts, on="department", how="left")
    return frame.with_columns(
        pl.col("n").fill_null(0).cast(pl.Int64),
        pl.col("n_started").fill_null(0).cast(pl.Int64),
    ).with_columns((100 * pl.col("n_started") / pl.col("n")).round(1).alias("pct_started"))


def interventions_by_department(
    cohort: pl.DataFrame, interventions: pl.DataFrame, min_participants: int
) -> pl.DataFrame:
    """Participants (persons) per intervention category within each department of the cohort,
    flagging categories with too few participants to evaluate."""
    joined = interventions.filter(pl.col("linked")).join(
        cohort.select("RINPERSOONS", "RINPERSOON", "department"), on=["RINPERSOONS", "RINPERSOON"]
    )
    counts = (
        joined.group_by("department", "category")
        .agg(pl.struct("RINPERSOONS", "RINPERSOON").n_unique().alias("participants"))
        .join(cohort.group_by("department").agg(pl.len().alias("department_n")), on="department")
        .with_columns(
            (100 * pl.col("participants") / pl.col("department_n"))
            .round(1)
            .alias("pct_of_department"),
            (pl.col("participants") < min_participants).alias("too_few_to_evaluate"),
        )
    )
    return counts.sort("department", "participants", "category", descending=[False, True, False])


def time_to_work(population: pl.DataFrame, by: str = "chronic", horizon: int = 36) -> pl.DataFrame:
    """Kaplan-Meier share started work by month since the anchor, per level of `by` (Figure 2).

    A person is at risk in month m while no qualifying work has started before m and m is within
    their follow-up window (followup_window: the latest month in which work could still count);
    censoring happens at the end of that window."""
    rows = []
    levels = TABLE1_CHARACTERISTICS.get(by) or sorted(population[by].cast(pl.String).unique())
    values = _as_levels(population, by)
    for level in levels:
        group = population.filter(values == level)
        if group.height == 0:
            continue
        event = group["months_to_work"].fill_null(horizon + 10**6).to_numpy()
        window = group["followup_window"].to_numpy()
        surviving = 1.0
        cumulative = 0
        for month in range(1, horizon + 1):
            at_risk = int(((event >= month) & (window >= month)).sum())
            events = int(((event == month) & (window >= month)).sum())
            if at_risk:
                surviving *= 1 - events / at_risk
            cumulative += events
            rows.append(
                {
                    by: level,
                    "month": month,
                    "at_risk": at_risk,
                    "events": events,
                    "cumulative_events": cumulative,
                    "pct_started": round(100 * (1 - surviving), 2),
                }
            )
    return pl.DataFrame(rows)
