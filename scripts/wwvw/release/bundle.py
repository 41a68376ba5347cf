"""What leaves the workflow: aggregates shaped for the CBS output rules, the rule of each released
table, and the staged, atomic build of the checked bundles (results/<snapshot>/safe/ and export/).

Every check itself is `wwvw.release.disclosure` (CBS output rules); this module decides which rule applies
to which file and shapes the tables so that the rules can see everything a reader can:

- margins that are published elsewhere go into the table (Table 1's per-characteristic totals,
  Table 2's cohort total), so that secondary suppression protects against them;
- the person counts excluded at each step of the flow are differences of published counts, so a
  step whose exclusion is a small count is suppressed (`protect_flow`);
- the Kaplan-Meier curve is published every few months and only where at least 10 persons are at
  risk and at least 10 events happened since the previous point (`coarsen_time_to_work`);
- the caseworker propensities are binned on a fixed grid, bins merged until each holds at least
  10 clients referred and 10 not referred (`leniency_bins`); no person-level value, no extreme;
- the free-text spellings of interventions do not leave: only categories by method
  (`ingest.interventions.summary_by_category`);
- models carry their residual degrees of freedom, bounded from below (`with_residual_df`).

What this module changes before the library's checks is recorded as output_check rows with stage
`prepare`; the library's own rows follow with stage `suppress` (the safe tables) and `final` (the
export's re-check), so output_check.csv reads as the history of every released file.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import polars as pl

from wwvw.release import disclosure as sdc
from wwvw.release.disclosure import (  # noqa: F401  (STAGES, in_stage_order re-exported)
    CHECK_COLUMNS,
    STAGES,
    in_stage_order,
)

DEPARTMENTS = ("matching", "prematching", "activering")
OUTPUT_CHECK = sdc.OUTPUT_CHECK
NICE_WIDTHS = (0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2)


def _share(n: str, events: str, share: str | None = None, scale: float = 100) -> sdc.Proportion:
    return sdc.Proportion(n, share=share, events=events, scale=scale)


TABLE_RULES: dict[str, sdc.Rule] = {
    "tables/table1.csv": sdc.TableRule(
        count_cols=("n", "n_started"),
        row_key="level",
        col_key="characteristic",
        # started work among the n of a level: n*p = n_started, n*(1-p) = n - n_started
        proportions=(_share("n", "n_started"),),
        derived={"pct": ("n",), "pct_started": ("n_started",)},
    ),
    "tables/table2.csv": sdc.TableRule(
        count_cols=("n", "n_started"),
        row_key="department",
        proportions=(_share("n", "n_started", "pct_started"),),
    ),
    "tables/interventions_by_department.csv": sdc.TableRule(
        count_cols=("participants", "department_n"),
        row_key="category",
        col_key="department",
        derived={"pct_of_department": ("participants", "department_n")},
    ),
    "tables/time_to_work.csv": sdc.TableRule(
        count_cols=("at_risk", "events", "cumulative_events"),
        row_key="month",
        col_key="group",
        derived={"pct_started": ("at_risk", "cumulative_events")},
    ),
    "tables/chronic_prevalence.csv": sdc.TableRule(
        count_cols=("n", "n_with"),
        row_key="condition",
        col_key="group",
        proportions=(_share("n", "n_with", "pct"),),
    ),
    "tables/leniency.csv": sdc.TableRule(
        count_cols=("n", "n_referred"),
        row_key="bin",
        col_key="department",
        proportions=(_share("n", "n_referred", "pct_referred"),),
        derived={"z_mean": ("n",), "pct_of_clients": ("n",)},
        caseworker_counts=("n_caseworkers",),
    ),
    "cohort/flow.csv": sdc.TableRule(count_cols=("n",), row_key="step"),
    "qc/linkage.csv": sdc.TableRule(
        count_cols=("rows", "persons", "linked_persons", "unlinked_rows"),
        row_key="source",
        national_counts=True,  # rows and persons of the national registers
    ),
    # persons are checked (a cell of 12 registrations may be 3 persons); registrations and
    # spellings go where their persons go
    "qc/interventions.csv": sdc.TableRule(
        count_cols=("persons",),
        row_key="category",
        col_key="method",
        margin_label="all",
        derived={"rows": ("persons",), "spellings": ("persons",)},
    ),
    "estimates/estimates.csv": sdc.ModelRule(),
    "estimates/diagnostics.csv": sdc.ModelRule(),
}
MODEL_RULE = sdc.ModelRule()


def rule_for(name: str) -> sdc.Rule:
    """The CBS rule of a released table: declared above, models for every validity table."""
    if name in TABLE_RULES:
        return TABLE_RULES[name]
    if name.startswith("validity/"):
        return MODEL_RULE
    raise KeyError(f"no disclosure rule declared for {name}")


@dataclass(frozen=True)
class Note:
    """A preparation step, as an output_check row (never a value of a suppressed cell)."""

    file: str
    check: str
    status: str
    detail: str

    def row(self) -> dict[str, str]:
        return {**self.__dict__, "stage": "prepare"}


# --- Aggregates made for release -----------------------------------------------------------------


def nice_width(values: np.ndarray, target_bins: int) -> float:
    """A round bin width giving about `target_bins` bins over the central 90% of the values."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return NICE_WIDTHS[-1]
    low, high = np.quantile(finite, [0.05, 0.95])
    raw = max(high - low, 1e-9) / max(target_bins, 1)
    return min(NICE_WIDTHS, key=lambda w: abs(math.log(w / raw)))


def _merge_bins(
    codes: np.ndarray,
    referred: np.ndarray,
    min_persons: int,
    min_events: int,
    caseworkers: np.ndarray | None = None,
    min_caseworkers: int = 1,
) -> list[tuple[int, int, np.ndarray]]:
    """Adjacent grid bins merged from the left until each holds at least `min_persons` clients,
    `min_events` referred and `min_events` not referred, and the clients of at least
    `min_caseworkers` caseworkers; a short remainder joins the last bin."""
    order = np.argsort(codes, kind="stable")
    codes, referred = codes[order], referred[order]
    workers = None if caseworkers is None else caseworkers[order]
    merged: list[tuple[int, int, np.ndarray]] = []
    start = 0
    for end in range(1, codes.size + 1):
        if end < codes.size and codes[end] == codes[end - 1]:
            continue
        members = order[start:end]
        n, k = end - start, int(referred[start:end].sum())
        enough_workers = workers is None or np.unique(workers[start:end]).size >= min_caseworkers
        if n >= min_persons and k >= min_events and n - k >= min_events and enough_workers:
            merged.append((int(codes[start]), int(codes[end - 1]), members))
            start = end
    if start < codes.size:
        rest = order[start:]
        if merged:
            low, _, members = merged.pop()
            merged.append((low, int(codes[-1]), np.concatenate([members, rest])))
        else:
            merged.append((int(codes[start]), int(codes[-1]), rest))
    return merged


def leniency_bins(
    cohort: pl.DataFrame,
    departments: Sequence[str] = DEPARTMENTS,
    kind: str = "loo_residualised",
    min_caseload: int = 2,
    target_bins: int = 20,
    min_persons: int = 10,
    min_events: int = 10,
    min_caseworkers: int = 3,
) -> pl.DataFrame:
    """The leniency figure's numbers: caseworker propensities binned, referral rate per bin and
    the first-stage line, per department. Each bin holds the clients of at least
    `min_caseworkers` caseworkers (`n_caseworkers`), so no bin describes one caseworker.

    The propensity is the caseworker's leave-one-out referral rate to the department (net of the
    location x quarter cell for kind loo_residualised), in percentage points. Bins lie on a round
    grid (edges are grid values, never data values) and are merged until each has enough clients
    referred and not referred. `fitted_pct` is the OLS line of referral on the propensity over
    clients, at the bin's mean propensity; `slope` is its slope (percentage points of referral per
    percentage point of propensity).
    """
    # imported here, not at the top: the estimation package loads scipy (about 0.2 s), and the
    # report and export jobs, which import this module too, do not need it
    from wwvw.estimation.instruments import (
        add_propensities,
        drop_small_caseloads,
        propensity_column,
    )

    sample = add_propensities(drop_small_caseloads(cohort, min_caseload), departments, kind)
    rows = []
    for department in departments:
        z = sample[propensity_column(department)].to_numpy().astype(float)
        referred = (sample["department"] == department).to_numpy()
        workers = sample["caseworker"].to_numpy()
        keep = np.isfinite(z)
        z, referred, workers = 100 * z[keep], referred[keep], workers[keep]
        if z.size < 2:
            continue
        width = 100 * nice_width(z / 100, target_bins)
        codes = np.floor(z / width + 1e-9).astype(np.int64)
        slope, intercept = np.polyfit(z, referred.astype(float), 1)
        for number, (low, high, members) in enumerate(
            _merge_bins(codes, referred, min_persons, min_events, workers, min_caseworkers),
            start=1,
        ):
            z_mean = float(z[members].mean())
            n, k = int(members.size), int(referred[members].sum())
            rows.append(
                {
                    "department": department,
                    "bin": number,
                    "lower": round(low * width, 4),
                    "upper": round((high + 1) * width, 4),
                    "z_mean": round(z_mean, 3),
                    "n": n,
                    "n_caseworkers": int(np.unique(workers[members]).size),
                    "pct_of_clients": round(100 * n / z.size, 2),
                    "n_referred": k,
                    "pct_referred": round(100 * k / n, 1),
                    "fitted_pct": round(100 * (intercept + slope * z_mean), 2),
                    "slope": round(100 * slope, 4),
                }
            )
    return pl.DataFrame(rows)


def coarsen_time_to_work(
    table: pl.DataFrame,
    by: str = "chronic",
    step: int = 3,
    min_persons: int = 10,
    min_events: int = 10,
) -> pl.DataFrame:
    """Kaplan-Meier curve kept every `step` months where at least `min_persons` are at risk and at
    least `min_events` events happened since the previous kept point (and in all before it).

    Columns: group (the level of `by`), month, at_risk, events (since the previous kept point),
    cumulative_events, pct_started.
    """
    rows = []
    for (level,), group in table.sort(by, "month").group_by(by, maintain_order=True):
        last_cumulative = 0
        for row in group.filter(pl.col("month") % step == 0).iter_rows(named=True):
            events = row["cumulative_events"] - last_cumulative
            if row["at_risk"] < min_persons or events < min_events:
                continue
            rows.append(
                {
                    "group": str(level),
                    "month": row["month"],
                    "at_risk": row["at_risk"],
                    "events": events,
                    "cumulative_events": row["cumulative_events"],
                    "pct_started": row["pct_started"],
                }
            )
            last_cumulative = row["cumulative_events"]
    schema = {
        "group": pl.String,
        "month": pl.Int64,
        "at_risk": pl.Int64,
        "events": pl.Int64,
        "cumulative_events": pl.Int64,
        "pct_started": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def protect_flow(flow: pl.DataFrame, min_persons: int = 10) -> tuple[pl.DataFrame, list[str]]:
    """Suppress the count after a step that excludes between 1 and `min_persons - 1` persons
    (the difference of two published counts is itself a count). Returns the flow and the steps
    whose count was suppressed."""
    kept, hidden, last = [], [], None
    for step, n in zip(flow["step"], flow["n"], strict=True):
        excluded_few = last is not None and 0 < last - n < min_persons
        if n < min_persons or excluded_few:
            kept.append(None)
            hidden.append(step)
        else:
            kept.append(n)
            last = n
    return flow.with_columns(pl.Series("n", kept, dtype=pl.Int64)), hidden


def few_persons(difference: pl.Expr, min_persons: int) -> pl.Expr:
    """A difference of two released counts that is itself a count below the minimum (1 to
    `min_persons - 1`; none at all is no disclosure)."""
    return (difference > 0) & (difference < min_persons)


def protect_differences(
    frame: pl.DataFrame, pairs: Sequence[tuple[str, str]], min_persons: int
) -> tuple[pl.DataFrame, list[str]]:
    """For each (whole, part) pair of person counts in one row (persons, linked persons), the
    part is suppressed where the whole minus the part is between 1 and `min_persons - 1`: that
    difference is itself a count of persons (unlinked persons). Returns the frame and the rows'
    keys (first column) whose part was suppressed."""
    hidden = []
    for whole, part in pairs:
        if whole not in frame.columns or part not in frame.columns:
            continue
        gap = pl.col(whole).cast(pl.Int64, strict=False) - pl.col(part).cast(pl.Int64, strict=False)
        few = few_persons(gap, min_persons)
        hidden += [f"{part} of {key}" for key in frame.filter(few)[frame.columns[0]].to_list()]
        frame = frame.with_columns(pl.when(few).then(None).otherwise(pl.col(part)).alias(part))
    return frame, hidden


# the linkage report's (whole, part) person counts: their difference counts unlinked persons
LINKAGE_DIFFERENCES = (("persons", "linked_persons"),)
# columns that identify one model in a table of subgroup results (all but the subgroup itself)
SUBGROUP_MODEL_KEYS = ("model", "specification", "treatment", "regressor", "estimator", "se_type")


def protect_partitions(frame: pl.DataFrame, min_persons: int) -> tuple[pl.DataFrame, list[str]]:
    """Subgroup results (characteristic and level, or subgroup 'variable=level') beside the whole
    sample's: the whole sample's n minus the levels' n is the count of the levels not shown
    (unknown education, a small group). Where that is between 1 and `min_persons - 1`, the n of
    the smallest shown level is suppressed too, so that no subtraction gives fewer than
    `min_persons` persons. Returns the frame and what was suppressed."""
    if "n" not in frame.columns:
        return frame, []
    if {"characteristic", "level"} <= set(frame.columns):
        variable, level = pl.col("characteristic").cast(pl.String), pl.col("level").cast(pl.String)
    elif "subgroup" in frame.columns:
        parts = pl.col("subgroup").cast(pl.String).str.split_exact("=", 1)
        variable = (
            pl.when(pl.col("subgroup") == "all")
            .then(pl.lit("all"))
            .otherwise(parts.struct.field("field_0"))
        )
        level = parts.struct.field("field_1")
    else:
        return frame, []
    keys = [c for c in SUBGROUP_MODEL_KEYS if c in frame.columns]
    rows = frame.with_row_index("_i").with_columns(
        _variable=variable, _level=level, _n=pl.col("n").cast(pl.Int64, strict=False)
    )
    if "row" in rows.columns:  # heterogeneity: tests and bands are rows without a level
        rows = rows.filter(pl.col("row").is_in(["overall", "subgroup"]) | pl.col("row").is_null())
    whole = rows.filter(pl.col("_variable") == "all").select(*keys, _total=pl.col("_n"))
    shown = rows.filter((pl.col("_variable") != "all") & pl.col("_n").is_not_null())
    if whole.height == 0 or shown.height == 0:
        return frame, []
    # one row per model and subgroup level (a level can repeat over statistics of one model)
    levels = shown.group_by([*keys, "_variable", "_level"]).agg(pl.col("_n").first(), pl.col("_i"))
    joined = (
        levels.join(whole.unique(), on=keys, how="inner")
        if keys
        else levels.join(whole.unique(), how="cross")
    )
    groups = joined.group_by([*keys, "_variable"]).agg(
        gap=pl.col("_total").first() - pl.col("_n").sum(),
        smallest=pl.col("_i").sort_by(pl.col("_n")).first(),
        level=pl.col("_level").sort_by(pl.col("_n")).first(),
    )
    few = groups.filter(few_persons(pl.col("gap"), min_persons))
    if few.height == 0:
        return frame, []
    hide = {i for indices in few["smallest"].to_list() for i in indices}
    hidden = sorted({f"{v}={lv}" for v, lv in few.select("_variable", "level").iter_rows()})
    index = pl.int_range(pl.len())
    return frame.with_columns(
        n=pl.when(index.is_in(list(hide))).then(None).otherwise(pl.col("n"))
    ), hidden


def protect_against_total(
    frame: pl.DataFrame, total: int | None, min_persons: int
) -> tuple[pl.DataFrame, int]:
    """A model's n beside the cohort size published in the flow: their difference counts the
    clients the sample left out (the clients of caseworkers below the minimum caseload). Where it
    is 1 to `min_persons - 1`, n is suppressed. Returns the frame and the rows suppressed."""
    if total is None or "n" not in frame.columns:
        return frame, 0
    gap = total - pl.col("n").cast(pl.Int64, strict=False)
    few = few_persons(gap, min_persons).fill_null(False)
    hidden = int(frame.select(few.sum()).item())
    return frame.with_columns(n=pl.when(few).then(None).otherwise(pl.col("n"))), hidden


def table1_with_margins(table1: pl.DataFrame) -> pl.DataFrame:
    """Table 1 with a `total` level per characteristic (the study population and its starters),
    so that no suppressed level can be recovered from the published total."""
    total = table1.filter(pl.col("characteristic") == "total")
    if total.height != 1:
        raise ValueError("table1 needs exactly one row with characteristic 'total'")
    n, n_started = total["n"].item(), total["n_started"].item()
    characteristics = (
        table1.filter(pl.col("characteristic") != "total")["characteristic"]
        .unique(maintain_order=True)
        .to_list()
    )
    margins = pl.DataFrame(
        {
            "characteristic": characteristics,
            "level": ["total"] * len(characteristics),
            "n": [n] * len(characteristics),
            "pct": [100.0] * len(characteristics),
            "n_started": [n_started] * len(characteristics),
            "pct_started": [100.0] * len(characteristics),
        },
        schema=table1.schema,
    )
    parts = [total]
    for characteristic in characteristics:
        parts.append(table1.filter(pl.col("characteristic") == characteristic))
        parts.append(margins.filter(pl.col("characteristic") == characteristic))
    return pl.concat(parts)


def table2_with_total(table2: pl.DataFrame) -> pl.DataFrame:
    """Table 2 with the cohort total (published in the flow), so that it protects the cells."""
    total = table2.select(
        pl.lit("total").alias("department"),
        pl.col("n").sum(),
        pl.col("n_started").sum(),
    ).with_columns((100 * pl.col("n_started") / pl.col("n")).round(1).alias("pct_started"))
    return pl.concat([table2, total.cast(table2.schema)])


def model_size_bound(cohort: pl.DataFrame) -> int:
    """An upper bound on the parameters of any model estimated on the cohort: an intercept,
    every treatment, every covariate dummy, every assignment cell and every caseworker."""
    from wwvw.estimation.matrices import BOOLEAN_COVARIATES, CATEGORICAL_COVARIATES  # as above

    covariate_levels = sum(cohort[c].n_unique() for c in CATEGORICAL_COVARIATES if c in cohort)
    covariate_levels += sum(1 for c in BOOLEAN_COVARIATES if c in cohort)
    return (
        1
        + len(DEPARTMENTS)
        + covariate_levels
        + cohort["cell"].n_unique()
        + cohort["caseworker"].n_unique()
    )


def with_residual_df(frame: pl.DataFrame, n_params: int) -> pl.DataFrame:
    """Residual degrees of freedom per row, bounded from below: n minus `n_params`, and with
    clustered standard errors at most the number of clusters minus one. Rows without n keep
    a missing value (the model rule then refuses them)."""
    if "df_resid" in frame.columns or "n" not in frame.columns:
        return frame
    df = pl.col("n").cast(pl.Float64) - n_params
    if "n_clusters" in frame.columns:
        clusters = pl.col("n_clusters").cast(pl.Float64) - 1
        df = pl.when(clusters.is_not_null()).then(pl.min_horizontal(df, clusters)).otherwise(df)
    return frame.with_columns(df.floor().cast(pl.Int64).alias("df_resid"))


MODEL_KEYS = ("model", "estimator", "specification", "treatment", "subgroup", "characteristic")


def drop_small_models(frame: pl.DataFrame, min_df: int) -> tuple[pl.DataFrame, str]:
    """Rows of models with fewer than `min_df` residual degrees of freedom (e.g. estimates for a
    small subgroup) left out; returns the frame and which rows went, by their labels only."""
    if "df_resid" not in frame.columns:
        return frame, ""
    small = (pl.col("df_resid") < min_df).fill_null(False)
    gone = frame.filter(small)
    if gone.height == 0:
        return frame, ""
    keys = [k for k in (*MODEL_KEYS, "level") if k in frame.columns]
    labels = gone.select(
        pl.concat_str(
            [pl.concat_str(pl.lit(f"{k}="), pl.col(k).cast(pl.String).fill_null("")) for k in keys],
            separator="/",
        )
        if keys
        else pl.lit("row")
    ).to_series()
    detail = (
        f"{gone.height} rows of models with fewer than {min_df} residual degrees of freedom "
        "left out: " + ", ".join(labels.unique(maintain_order=True).to_list()[:20])
    )
    return frame.filter(~small), detail


# --- Preparing the released tables ---------------------------------------------------------------


# Columns that are one caseworker's statistic: a quantile of the caseworkers' propensities lies
# inside one caseworker's clients (the complier shares use them; the shares are released)
CASEWORKER_COLUMNS = {"validity/compliers.csv": ("z_low", "z_high")}


def prepare_table(
    name: str,
    frame: pl.DataFrame,
    thresholds: sdc.Thresholds,
    n_params: int | None,
    step: int = 3,
    cohort_clients: int | None = None,
) -> tuple[pl.DataFrame, list[Note]]:
    """The table as it will be checked and released, and what preparing it did. `n_params`
    (`model_size_bound`) is needed for model tables only; `cohort_clients` (the cohort's size,
    published in the flow) lets a model's n be checked against it."""
    dropped = [c for c in CASEWORKER_COLUMNS.get(name, ()) if c in frame.columns]
    if dropped:
        detail = (
            f"{', '.join(dropped)} not released: each is the propensity of a single caseworker "
            f"(fewer than {thresholds.min_caseworkers})"
        )
        prepared, notes = _prepare(
            name, frame.drop(dropped), thresholds, n_params, step, cohort_clients
        )
        return prepared, [Note(name, "caseworkers", "suppressed", detail), *notes]
    return _prepare(name, frame, thresholds, n_params, step, cohort_clients)


def _prepare(
    name: str,
    frame: pl.DataFrame,
    thresholds: sdc.Thresholds,
    n_params: int | None,
    step: int,
    cohort_clients: int | None = None,
) -> tuple[pl.DataFrame, list[Note]]:
    t = thresholds
    if name == "tables/table1.csv":
        detail = "a total level per characteristic added, so margins protect suppressed levels"
        return table1_with_margins(frame), [Note(name, "margins", "pass", detail)]
    if name == "tables/table2.csv":
        detail = "cohort total added (it is published in the flow), so it protects the cells"
        return table2_with_total(frame), [Note(name, "margins", "pass", detail)]
    if name == "tables/time_to_work.csv":
        group = frame.columns[0]
        coarse = coarsen_time_to_work(frame, group, step, t.min_persons, t.min_events)
        detail = (
            f"Kaplan-Meier curve by {group} kept every {step} months where at least "
            f"{t.min_persons} persons are at risk and {t.min_events} events happened since the "
            f"previous point: {coarse.height} of {frame.height} monthly points released"
        )
        return coarse, [Note(name, "coarsened", "suppressed", detail)]
    if name == "cohort/flow.csv":
        safe, hidden = protect_flow(frame, t.min_persons)
        if hidden:
            detail = "n: step=" + ", step=".join(hidden) + " (a small number excluded)"
            return safe, [Note(name, "flow_differences", "suppressed", detail)]
        detail = f"every step excludes none or at least {t.min_persons} persons"
        return safe, [Note(name, "flow_differences", "pass", detail)]
    if name == "qc/interventions.csv":
        detail = (
            "free-text spellings not released: persons, registrations and spellings per "
            "category and matching method only, checked on persons"
        )
        return frame, [Note(name, "aggregated", "pass", detail)]
    if name == "qc/linkage.csv":
        safe, hidden = protect_differences(frame, LINKAGE_DIFFERENCES, t.min_persons)
        if hidden:
            detail = "suppressed where few persons are unlinked: " + ", ".join(hidden)
            return safe, [Note(name, "differences", "suppressed", detail)]
        detail = f"persons minus linked persons is 0 or at least {t.min_persons} in every row"
        return safe, [Note(name, "differences", "pass", detail)]
    if isinstance(rule_for(name), sdc.ModelRule):
        if n_params is None:
            raise ValueError(f"{name} is a model table: its release needs the cohort's model size")
        prepared = with_residual_df(frame, n_params)
        detail = (
            f"residual degrees of freedom bounded from below: n - {n_params} parameters, "
            "at most clusters - 1"
        )
        notes = [Note(name, "residual_df_bound", "pass", detail)]
        prepared, dropped = drop_small_models(prepared, t.min_residual_df)
        if dropped:
            notes.append(Note(name, "small_models", "suppressed", dropped))
        prepared, hidden = protect_partitions(prepared, t.min_persons)
        if hidden:
            detail = (
                "n of the smallest shown level suppressed where the whole sample minus the shown "
                f"levels is fewer than {t.min_persons} persons: " + ", ".join(hidden)
            )
            notes.append(Note(name, "differences", "suppressed", detail))
        prepared, hidden = protect_against_total(prepared, cohort_clients, t.min_persons)
        if hidden:
            detail = (
                f"n suppressed in {hidden} row(s) where the cohort (published in the flow) minus "
                f"n is fewer than {t.min_persons} clients (clients left out of the sample)"
            )
            notes.append(Note(name, "cohort_differences", "suppressed", detail))
        return prepared, notes
    return frame, []


def read_checks(path: str | Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    if "stage" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("stage"))
    return frame.select(CHECK_COLUMNS)


def release_tables(
    sources: Mapping[str, str | Path],
    targets: Mapping[str, str | Path],
    check_path: str | Path,
    thresholds: sdc.Thresholds,
    n_params: int | None,
    step: int = 3,
    cohort_clients: int | None = None,
) -> pl.DataFrame:
    """The safe tables: each source (export name -> file) prepared (`prepare_table`), checked and
    suppressed under its rule (`rule_for`), and written to its target path, with the checks in
    `check_path`. Nothing is written when a table cannot be made safe. Returns the checks."""
    notes: list[Note] = []
    with tempfile.TemporaryDirectory(prefix="prepared-") as tmp:
        prepared: dict[str, Path] = {}
        for name, source in sorted(sources.items()):
            frame, table_notes = prepare_table(
                name,
                pl.read_csv(source, infer_schema_length=None),
                thresholds,
                n_params,
                step,
                cohort_clients,
            )
            path = Path(tmp) / "prepared" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.write_csv(path)
            prepared[name] = path
            notes += table_notes
        earlier = pl.DataFrame([n.row() for n in notes], schema=dict.fromkeys(CHECK_COLUMNS, str))
        rules = {name: rule_for(name) for name in prepared}
        bundle = Path(tmp) / "safe"
        checks = sdc.build_export(prepared, rules, bundle, thresholds, "suppress", earlier)
        for name, target in targets.items():
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(bundle / name, target)
        Path(check_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(bundle / OUTPUT_CHECK, check_path)
    return checks


def thresholds_from_config(disclosure: Mapping[str, object]) -> sdc.Thresholds:
    """The CBS thresholds out of config['disclosure'] (which also holds release settings)."""
    names = {f.name for f in fields(sdc.Thresholds)}
    return sdc.Thresholds.from_mapping({k: v for k, v in disclosure.items() if k in names})


def export_rules(
    tables: Sequence[str], figures: Sequence[str], figure_sources: Mapping[str, Sequence[str]]
) -> dict[str, sdc.Rule]:
    """The rule of every exported file: tables and models under their rules (re-checked), each
    figure and the report scanned, with the safe tables they show named as their sources."""
    rules: dict[str, sdc.Rule] = {name: rule_for(name) for name in tables}
    for name in figures:
        figure = Path(name).stem
        rules[name] = sdc.ScanRule(sources=tuple(figure_sources.get(figure, ())))
    rules["report.html"] = sdc.ScanRule(sources=tuple(tables))
    return rules


def export_bundle(
    tables: Mapping[str, str | Path],
    figures: Mapping[str, str | Path],
    figure_sources: Mapping[str, Sequence[str]],
    report: str | Path,
    earlier: pl.DataFrame,
    out_dir: str | Path,
    thresholds: sdc.Thresholds,
) -> pl.DataFrame:
    """The export bundle: safe tables, figures and report.html under the CBS output rules, with
    output_check.csv holding every stage (prepare, suppress, final). All or nothing: on a
    failure `DisclosureError` names each file and check, and no export exists afterwards."""
    files: dict[str, str | Path] = {**tables, **figures, "report.html": report}
    rules = export_rules(list(tables), list(figures), figure_sources)
    return sdc.build_export(files, rules, out_dir, thresholds, "final", earlier)
