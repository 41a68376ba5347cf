"""Statistical disclosure control: what may leave CBS Remote Access, and how to make it safe.

Implements on polars frames the output rules of the CBS microdata services ("Output guidelines" of
CBS Microdata Services, "Richtlijnen outputcontrole"), with the CBS defaults in `Thresholds`:

1. Minimum frequency: every cell and every statistic (count, mean, percentage) rests on at least
   10 persons, counted unweighted.
2. Proportions: a share p of n persons is shown only when n*p >= 10 and n*(1-p) >= 10, so that
   neither the group with the attribute nor the group without it has fewer than 10 persons.
3. Dominance: in a magnitude table no single unit contributes more than 50% of a cell total.
4. Models: at least 10 residual degrees of freedom; regression output is otherwise releasable.
5. No minima or maxima of person-level values.
6. No person key (RIN: nine digits, often zero-padded) and no person-level rows, anywhere.
7. No suppressed cell may be recoverable from published margins (secondary suppression).

Every rule has an expression (`is_small_count`, `is_unsafe_proportion`, `is_dominated`), a check
that returns `Finding`s, and, where a table can be made safe, a suppression (`suppress_table`,
`secondary_suppression`). `build_export` applies the rule declared for each file, writes what
passes (after suppression) into the export directory atomically, with `output_check.csv`, and
otherwise raises `DisclosureError` and leaves no export behind.

Privacy of the messages: findings and errors name files, columns, data rows and lines, never a cell
value, so that a log or an error cannot itself carry a RIN or a small count out of CBS.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import polars as pl

RIN_LIKE = r"(?:^|[^0-9.])[0-9]{9}(?:$|[^0-9.]|\.(?:$|[^0-9]))"
"""A RIN-like token: exactly nine ASCII digits, not adjacent to another digit or a decimal point.

A dot before the run makes it the decimals of a number (0.123456789, .123456789); a dot after it
counts as a decimal point only when a digit follows (123456789.5), so a full stop ending a sentence
does not hide a RIN. Letters may touch the run: RINPERSOONS and RINPERSOON are often written together
(R000012345). Written for the Rust regex engine of polars, which has no look-around.
"""

PERSON_KEY_NAME = re.compile(
    r"rinpersoon|(?:^|[^a-z])(?:rin|bsn|burgerservicenummer|a_?nummer)(?:[^a-z]|$)"
    r"|(?:person|persoon|client|klant)s?_?(?:id|key|nr|nummer)(?:[^a-z]|$)"
)
ID_NAME_TOKENS = frozenset({"id", "ids", "key", "nr", "nummer"})
ZERO_PADDED_KEY = r"^0[0-9]{5,}$"
HEX_DIGEST = r"^[0-9a-fA-F]{16,}$"
# fmt: off
EXTREME_TOKENS = frozenset({
    "min", "max", "minimum", "maximum", "minima", "maxima", "minimal", "maximal",
    "smallest", "largest", "laagste", "hoogste", "p0", "p100", "q0", "q100",
})
# fmt: on
EXTREME_LABEL = r"(?i)^\s*(?:min|max|minimum|maximum)\s*$"
TEXT_SUFFIXES = frozenset(
    {".csv", ".tsv", ".txt", ".md", ".html", ".htm", ".svg", ".json", ".yaml", ".yml", ".log"}
)
TABLE_SUFFIXES = frozenset({".csv"})
OUTPUT_CHECK = "output_check.csv"
STATUSES = ("pass", "suppressed", "fail")


@dataclass(frozen=True)
class Thresholds:
    """Output-checking thresholds; the defaults are the CBS Microdata Services rules.

    min_persons: unweighted persons behind every cell and statistic (CBS: 10).
    min_events: minimum of n*p and of n*(1-p) behind a proportion (CBS: 10).
    max_dominance_share: largest share one unit may contribute to a cell total (CBS: 0.5).
    min_residual_df: residual degrees of freedom of a model (CBS: 10).
    zero_cells_allowed: whether a count of 0 may be shown. Off by default: "nobody in this group
        has the attribute" discloses something about every member (group disclosure).
    min_caseworkers: caseworkers behind every released statistic about caseworkers (their
        caseloads, referrals and propensities): caseworkers are data subjects too (default 3).
    """

    min_persons: int = 10
    min_events: int = 10
    max_dominance_share: float = 0.5
    min_residual_df: int = 10
    zero_cells_allowed: bool = False
    min_caseworkers: int = 3

    def __post_init__(self):
        if min(self.min_persons, self.min_events, self.min_residual_df, self.min_caseworkers) < 1:
            raise ValueError("disclosure thresholds must be at least 1")
        if not 0 < self.max_dominance_share <= 1:
            raise ValueError("max_dominance_share must lie in (0, 1]")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> Thresholds:
        """Thresholds from a config mapping (e.g. config['disclosure']); unknown keys are errors."""
        values = dict(values or {})
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown disclosure threshold(s): {', '.join(unknown)}")
        return cls(**values)


CBS_DEFAULTS = Thresholds()
# the config `disclosure` keys that are thresholds (the section also holds release settings)
THRESHOLD_KEYS = tuple(f.name for f in fields(Thresholds))


@dataclass(frozen=True)
class Finding:
    """One breach of an output rule, located without quoting any value."""

    check: str
    location: str
    detail: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.source}, {self.location}" if self.source else self.location
        return f"[{self.check}] {where}: {self.detail}"


class DisclosureError(RuntimeError):
    """Output that breaks a CBS output rule and cannot be made safe. Never carries values."""


# --- Expressions: True where a cell breaks a rule ------------------------------------------------


def is_small(values: pl.Expr, thresholds: Thresholds = CBS_DEFAULTS) -> pl.Expr:
    """True where a number of persons is below the minimum (zero counts unless allowed)."""
    small = values < thresholds.min_persons
    if thresholds.zero_cells_allowed:
        small = small & (values != 0)
    return small.fill_null(False)


def is_small_count(column: str, thresholds: Thresholds = CBS_DEFAULTS) -> pl.Expr:
    """CBS minimum-frequency rule: True where a count describes fewer than 10 persons."""
    return is_small(pl.col(column).cast(pl.Float64), thresholds)


def is_unsafe_proportion(
    n_col: str,
    *,
    p_col: str | None = None,
    n_event_col: str | None = None,
    scale: float = 1.0,
    thresholds: Thresholds = CBS_DEFAULTS,
) -> pl.Expr:
    """CBS rule for proportions and percentages: True where n*p < 10 or n*(1-p) < 10.

    Give the share `p_col` (`scale` 1 for proportions, 100 for percentages) or, exactly, the count
    with the attribute `n_event_col`. Products are rounded to 6 decimals so that 100 * 0.1 counts
    as 10; a share rounded before publication is judged as published.
    """
    if (p_col is None) == (n_event_col is None):
        raise ValueError("give exactly one of p_col and n_event_col")
    n = pl.col(n_col).cast(pl.Float64)
    if n_event_col is not None:
        events = pl.col(n_event_col).cast(pl.Float64)
    else:
        events = n * pl.col(p_col).cast(pl.Float64) / scale
    with_attribute = events.round(6)
    without_attribute = (n - events).round(6)
    limit = thresholds.min_events
    return ((with_attribute < limit) | (without_attribute < limit)).fill_null(False)


def is_dominated(total_col: str, max_col: str, thresholds: Thresholds = CBS_DEFAULTS) -> pl.Expr:
    """CBS dominance rule: True where one unit contributes more than 50% of the cell total.

    `max_col` holds the largest single contribution to the cell. A cell with a total but no known
    maximum cannot be cleared and counts as dominated.
    """
    total = pl.col(total_col).cast(pl.Float64).abs()
    largest = pl.col(max_col).cast(pl.Float64).abs()
    return (
        pl.when(total.is_null())
        .then(False)
        .when(largest.is_null())
        .then(True)
        .otherwise(largest > thresholds.max_dominance_share * total)
    )


# --- Checks: rule breaches as findings ----------------------------------------------------------


def _data_rows(row_indices: Sequence[int], limit: int = 20) -> str:
    """'data row 3' / 'data rows 1, 4 (and 7 more)': 1-based, header excluded, never a value."""
    numbers = [str(i + 1) for i in row_indices[:limit]]
    more = f" (and {len(row_indices) - limit} more)" if len(row_indices) > limit else ""
    label = "data row" if len(row_indices) == 1 else "data rows"
    return f"{label} {', '.join(numbers)}{more}"


def _lines(line_indices: Sequence[int], limit: int = 20) -> str:
    numbers = [str(i + 1) for i in line_indices[:limit]]
    more = f" (and {len(line_indices) - limit} more)" if len(line_indices) > limit else ""
    return f"{'line' if len(line_indices) == 1 else 'lines'} {', '.join(numbers)}{more}"


def _flagged_rows(frame: pl.DataFrame, masks: Mapping[str, pl.Expr]) -> dict[str, list[int]]:
    """Row indices (0-based) where each named boolean expression is True; empty ones left out."""
    if not masks or frame.height == 0:
        return {}
    flags = frame.select([expr.fill_null(False).alias(name) for name, expr in masks.items()])
    return {
        name: indices
        for name in flags.columns
        if (indices := flags.get_column(name).arg_true().to_list())
    }


def check_counts(
    frame: pl.DataFrame, count_cols: Sequence[str], thresholds: Thresholds = CBS_DEFAULTS
) -> list[Finding]:
    """CBS minimum-frequency rule: every count (of persons, unweighted) is at least 10."""
    flagged = _flagged_rows(frame, {c: is_small_count(c, thresholds) for c in count_cols})
    return [
        Finding(
            "min_count",
            f"column '{column}', {_data_rows(rows)}",
            f"fewer than {thresholds.min_persons} persons",
        )
        for column, rows in flagged.items()
    ]


def check_proportions(
    frame: pl.DataFrame,
    n_col: str,
    p_col: str | None = None,
    *,
    n_event_col: str | None = None,
    scale: float = 1.0,
    thresholds: Thresholds = CBS_DEFAULTS,
) -> list[Finding]:
    """CBS rule for proportions: n*p >= 10 and n*(1-p) >= 10 (8 out of 100 is not releasable)."""
    unsafe = is_unsafe_proportion(
        n_col, p_col=p_col, n_event_col=n_event_col, scale=scale, thresholds=thresholds
    )
    column = p_col or n_event_col
    return [
        Finding(
            "proportion",
            f"column '{column}', {_data_rows(rows)}",
            f"n*p or n*(1-p) below {thresholds.min_events}",
        )
        for rows in _flagged_rows(frame, {"unsafe": unsafe}).values()
    ]


def check_dominance(
    frame: pl.DataFrame, total_col: str, max_col: str, thresholds: Thresholds = CBS_DEFAULTS
) -> list[Finding]:
    """CBS dominance rule: no single unit contributes more than 50% of a cell total."""
    unsafe = is_dominated(total_col, max_col, thresholds)
    share = f"{thresholds.max_dominance_share:.0%}"
    return [
        Finding(
            "dominance",
            f"column '{total_col}', {_data_rows(rows)}",
            f"one unit contributes more than {share} of the cell total",
        )
        for rows in _flagged_rows(frame, {"unsafe": unsafe}).values()
    ]


def residual_df(
    frame: pl.DataFrame,
    *,
    df_resid_col: str = "df_resid",
    n_col: str = "n",
    n_params: int | str | None = None,
) -> pl.Expr:
    """Residual degrees of freedom: the `df_resid_col` column, else n minus the parameter count."""
    if df_resid_col in frame.columns:
        return pl.col(df_resid_col).cast(pl.Float64)
    if n_params is None or n_col not in frame.columns:
        raise ValueError(
            f"cannot determine residual degrees of freedom: no column '{df_resid_col}', "
            f"and no column '{n_col}' with a parameter count"
        )
    params = pl.col(n_params) if isinstance(n_params, str) else pl.lit(n_params)
    return pl.col(n_col).cast(pl.Float64) - params.cast(pl.Float64)


def check_model(
    frame: pl.DataFrame,
    thresholds: Thresholds = CBS_DEFAULTS,
    *,
    df_resid_col: str = "df_resid",
    n_col: str = "n",
    n_params: int | str | None = None,
) -> list[Finding]:
    """CBS rule for models: at least 10 residual degrees of freedom per estimated model (row).

    Regression output (coefficients, standard errors, tests) is otherwise releasable. A row whose
    degrees of freedom are unknown cannot be cleared and is reported too.
    """
    df = residual_df(frame, df_resid_col=df_resid_col, n_col=n_col, n_params=n_params)
    unsafe = df.is_null() | (df < thresholds.min_residual_df)
    return [
        Finding(
            "residual_df",
            _data_rows(rows),
            f"fewer than {thresholds.min_residual_df} residual degrees of freedom (or unknown)",
        )
        for rows in _flagged_rows(frame, {"unsafe": unsafe}).values()
    ]


def _name_tokens(name: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", name.lower())) - {""}


def check_extremes(frame: pl.DataFrame, allowed: Sequence[str] = ()) -> list[Finding]:
    """CBS rule: no minima or maxima of person-level values.

    Flags columns named as an extreme (min, max, minimum, p100, hoogste, ...) and rows labelled
    min or max in a text column (the long form of a describe() table). `allowed` exempts columns
    that are not person-level values (e.g. the per-unit maximum used only for the dominance rule).
    """
    named = [
        Finding("extremes", f"column '{c}'", "column named as a minimum or maximum")
        for c in frame.columns
        if c not in allowed and _name_tokens(c) & EXTREME_TOKENS
    ]
    text_cols = [c for c, t in frame.schema.items() if t == pl.String and c not in allowed]
    labelled = _flagged_rows(frame, {c: pl.col(c).str.contains(EXTREME_LABEL) for c in text_cols})
    return named + [
        Finding("extremes", f"column '{c}', {_data_rows(rows)}", "row labelled as min or max")
        for c, rows in labelled.items()
    ]


def _column_as_text(frame: pl.DataFrame, name: str) -> pl.Series:
    """A column as the text it would be written as (nested values as JSON, one line per row)."""
    dtype = frame.schema[name]
    if dtype.is_nested():
        return pl.Series(name, frame.select(name).write_ndjson().splitlines(), dtype=pl.String)
    if dtype == pl.Object:
        return frame.get_column(name).map_elements(str, return_dtype=pl.String)
    return frame.get_column(name).cast(pl.String, strict=False)


def _scan_frame(frame: pl.DataFrame, source: str) -> list[Finding]:
    detail = "RIN-like number (exactly nine digits, not part of a longer number)"
    header_hits = pl.Series(frame.columns, dtype=pl.String).str.contains(RIN_LIKE).arg_true()
    findings = [
        Finding("identifiers", f"name of column {i + 1}", detail, source) for i in header_hits
    ]
    if frame.height == 0 or frame.width == 0:
        return findings
    as_text = pl.DataFrame([_column_as_text(frame, c) for c in frame.columns])
    flagged = _flagged_rows(as_text, {c: pl.col(c).str.contains(RIN_LIKE) for c in frame.columns})
    return findings + [
        Finding("identifiers", f"column '{c}', {_data_rows(rows)}", detail, source)
        for c, rows in flagged.items()
    ]


def _scan_text(text: str, source: str) -> list[Finding]:
    lines = pl.Series("line", text.splitlines(), dtype=pl.String)
    hits = lines.str.contains(RIN_LIKE).fill_null(False).arg_true().to_list()
    if not hits:
        return []
    detail = "RIN-like number (exactly nine digits, not part of a longer number)"
    return [Finding("identifiers", _lines(hits), detail, source)]


def scan_for_identifiers(frame_or_text: pl.DataFrame | str, source: str = "") -> list[Finding]:
    """CBS rule: no RIN (person key) in any output. Scans every cell and column name of a frame,
    or every line of a text, for exactly nine digits not part of a longer number (`RIN_LIKE`).

    Cells are scanned as they would be written to CSV, so an integer 123456789 is found and a float
    written as 123456789.5 is not. A zero-padded RIN stored as an integer has lost its padding and
    cannot be told from a count: `scan_for_person_level` catches such key columns by their shape.
    """
    if isinstance(frame_or_text, pl.DataFrame):
        return _scan_frame(frame_or_text, source)
    if isinstance(frame_or_text, str):
        return _scan_text(frame_or_text, source)
    raise TypeError("scan_for_identifiers takes a polars DataFrame or a str")


def _id_like_columns(frame: pl.DataFrame) -> list[str]:
    """Columns named as a key (id, key, nr) or holding zero-padded numbers or hex digests only."""
    named = [c for c in frame.columns if _name_tokens(c) & ID_NAME_TOKENS]
    text_cols = [c for c, t in frame.schema.items() if t == pl.String and c not in named]
    if not text_cols or frame.height == 0:
        return named
    key_shaped = frame.select(
        [
            (
                (
                    pl.col(c).str.contains(ZERO_PADDED_KEY)
                    | (
                        pl.col(c).str.contains(HEX_DIGEST)
                        & pl.col(c).str.contains("[0-9]")
                        & pl.col(c).str.contains("[a-fA-F]")
                    )
                ).all()
                & pl.col(c).is_not_null().any()
            ).alias(c)
            for c in text_cols
        ]
    ).row(0, named=True)
    return named + [c for c, shaped in key_shaped.items() if shaped]


def scan_for_person_level(frame: pl.DataFrame, source: str = "") -> list[Finding]:
    """CBS rule: no person-level rows leave CBS. Flags a column named like a person key
    (RINPERSOON, BSN, person_id, client_id) and an id-like column with one row per distinct value.
    """
    key_named = [c for c in frame.columns if PERSON_KEY_NAME.search(c.lower())]
    findings = [
        Finding(
            "person_level",
            f"column '{c}'",
            "column named like a person key (RIN, BSN, person id)",
            source,
        )
        for c in key_named
    ]
    candidates = [c for c in _id_like_columns(frame) if c not in key_named]
    if frame.height < 2 or not candidates:
        return findings
    distinct = frame.select(pl.col(candidates).n_unique()).row(0, named=True)
    return findings + [
        Finding(
            "person_level",
            f"column '{c}'",
            f"id-like column with a distinct value on every one of {frame.height} rows: "
            "looks like unit-level data",
            source,
        )
        for c, n in distinct.items()
        if n == frame.height
    ]


def _whole_numbers(frame: pl.DataFrame, column: str) -> bool:
    """Every cell of a text column empty or a whole number (digits only)."""
    return bool(frame.select(pl.col(column).fill_null("").str.contains(r"^[0-9]*$").all()).item())


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def read_table(path: str | Path) -> pl.DataFrame:
    """A CSV with every column as text (so zero padding survives and cells are written back as
    they were). Parse errors are re-raised without polars' message, which may quote a line."""
    try:
        return pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        name = type(exc).__name__
        raise DisclosureError(f"{Path(path).name}: cannot be read as CSV ({name})") from None


def check_file(path: str | Path, count_columns: Sequence[str] = ()) -> list[Finding]:
    """CBS rules that hold for any output file: no RIN-like number on any line of a text file
    (.csv .tsv .txt .md .html .svg .json .yaml), and for CSV no person-level rows or key columns.

    count_columns: count columns of a table whose counts may be national register sizes
    (`TableRule.national_counts`). Holding whole numbers only, they are not scanned for RINs:
    nine digits there are a count (104 million spells); every other cell and every column name
    is still scanned, and key columns are caught by `scan_for_person_level`.
    """
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise ValueError(f"{path.name}: not a text format that can be scanned")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return scan_for_identifiers(_read_text(path), source=path.name)
    if not count_columns:
        findings = scan_for_identifiers(_read_text(path), source=path.name)
        return findings + scan_for_person_level(read_table(path), source=path.name)
    frame = read_table(path)
    counts = [c for c in count_columns if c in frame.columns and _whole_numbers(frame, c)]
    blanked = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in counts)
    findings = scan_for_identifiers(blanked, source=path.name)  # column names still scanned
    return findings + scan_for_person_level(frame, source=path.name)


# --- Suppression --------------------------------------------------------------------------------

_ROW, _COL, _VAL, _CELL, _SUPP = "_sdc_row", "_sdc_col", "_sdc_value", "_sdc_cell", "_sdc_supp"
_EXPOSED, _CANDIDATE, _PICK = "_sdc_exposed", "_sdc_candidate", "_sdc_pick"
WHOLE_TABLE = "_sdc_whole_table"


@dataclass(frozen=True)
class _Direction:
    """Lines of a table: cells sharing `line`; the margin of a line is the cell whose `across`
    key is the margin label (rows: the total column; columns: the total row)."""

    line: str
    across: str


_DIRECTIONS = (_Direction(_ROW, _COL), _Direction(_COL, _ROW))


def _table_cells(
    frame: pl.DataFrame, row_key: str, col_key: str | None, value_col: str
) -> pl.DataFrame:
    """Long form of a table: one cell per row with its row key, column key and value."""

    def key(name: str | None) -> pl.Expr:
        return pl.lit(WHOLE_TABLE) if name is None else pl.col(name).cast(pl.String)

    cells = frame.select(
        key(row_key).alias(_ROW),
        key(col_key).alias(_COL),
        pl.col(value_col).cast(pl.Float64).alias(_VAL),
    ).with_row_index(_CELL)
    if cells.select(pl.struct(_ROW, _COL).is_duplicated().any()).item():
        raise ValueError(f"table keys ({row_key}, {col_key}) do not identify the cells uniquely")
    return cells


def _line_structure(d: _Direction, i: int, margin_label: str) -> list[pl.Expr]:
    """What the published table says about each line, before any suppression.

    A line is constrained when it has one margin cell and its interior does not exceed it; then
    `margin - interior` is known to anyone. A positive remainder is a hidden part of the line
    (categories not shown, e.g. "no" beside "yes"), which counts as one unknown.
    """
    is_margin = (pl.col(d.across) == margin_label).fill_null(False)
    margin_value = pl.when(is_margin).then(pl.col(_VAL)).max().over(d.line)
    interior_sum = pl.when(~is_margin).then(pl.col(_VAL)).sum().over(d.line)
    remainder = margin_value - interior_sum
    tolerance = 1e-9 * (margin_value.abs() + 1)
    one_margin = is_margin.cast(pl.Int32).sum().over(d.line) == 1
    constrained = (one_margin & margin_value.is_not_null() & (remainder >= -tolerance)).fill_null(
        False
    )
    return [
        is_margin.alias(f"_sdc_margin{i}"),
        margin_value.alias(f"_sdc_margin_value{i}"),
        constrained.alias(f"_sdc_constrained{i}"),
        (constrained & (remainder > tolerance)).fill_null(False).alias(f"_sdc_hidden{i}"),
    ]


def _exposed_lines(i: int, d: _Direction, thresholds: Thresholds, is_count: bool) -> pl.Expr:
    """True on every cell of a line from which a suppressed or hidden cell can be recovered.

    With its margin published, a line exposes an unknown cell when it is the only unknown, and a
    group of unknowns when their sum (margin minus the published cells) is a small count. With
    its margin suppressed, a line exposes the margin when every interior cell is published.
    """
    margin, supp, value = pl.col(f"_sdc_margin{i}"), pl.col(_SUPP), pl.col(_VAL)
    suppressed_interior = (~margin & supp).cast(pl.Int32).sum().over(d.line)
    unknown_interior = suppressed_interior + pl.col(f"_sdc_hidden{i}").cast(pl.Int32)
    margin_suppressed = (margin & supp).any().over(d.line)
    published_interior = pl.when(~margin & ~supp).then(value).sum().over(d.line)
    unknown_sum = (pl.col(f"_sdc_margin_value{i}") - published_interior).round(6)
    small_sum = is_small(unknown_sum, thresholds) if is_count else pl.lit(False)
    exposed = (
        pl.when(margin_suppressed)
        .then(unknown_interior == 0)
        .otherwise(
            ((suppressed_interior >= 1) & (unknown_interior == 1))
            | ((unknown_interior >= 1) & small_sum)
        )
    )
    return (pl.col(f"_sdc_constrained{i}") & exposed).fill_null(False)


def _suppress_next_smallest(
    cells: pl.DataFrame, i: int, d: _Direction, thresholds: Thresholds, is_count: bool
) -> pl.DataFrame:
    """In every exposed line, suppress the smallest published cell (ties: first in the table)."""
    value = pl.col(_VAL)
    cells = cells.with_columns(_exposed_lines(i, d, thresholds, is_count).alias(_EXPOSED))
    cells = cells.with_columns(
        (pl.col(_EXPOSED) & ~pl.col(_SUPP) & value.is_not_null()).alias(_CANDIDATE)
    )
    smallest = pl.when(pl.col(_CANDIDATE)).then(value).min().over(d.line)
    first = pl.when(pl.col(_CANDIDATE) & (value == smallest)).then(pl.col(_CELL)).min()
    cells = cells.with_columns(
        (pl.col(_CANDIDATE) & (pl.col(_CELL) == first.over(d.line))).fill_null(False).alias(_PICK)
    )
    return cells.with_columns(pl.col(_SUPP) | pl.col(_PICK))


def _as_mask(frame: pl.DataFrame, mask: pl.Series | pl.Expr | Sequence[bool]) -> pl.Series:
    if isinstance(mask, pl.Expr):
        return frame.with_columns(mask.alias(_SUPP)).get_column(_SUPP).fill_null(False)
    series = pl.Series(_SUPP, mask, dtype=pl.Boolean).fill_null(False)
    if series.len() != frame.height:
        raise ValueError("suppression mask and frame differ in length")
    return series


def secondary_suppression(
    frame: pl.DataFrame,
    row_key: str,
    col_key: str | None,
    value_col: str,
    suppressed: pl.Series | pl.Expr | Sequence[bool],
    thresholds: Thresholds = CBS_DEFAULTS,
    *,
    margin_label: str = "total",
    is_count: bool = True,
) -> pl.Series:
    """CBS rule that a suppressed cell may not be derivable from margins: complementary suppression.

    `frame` is a table in long form (one cell per row, keyed by `row_key` and `col_key`; a
    one-dimensional table has `col_key=None`), its margins included as cells whose key is
    `margin_label`. `suppressed` marks the primary suppressions. Rows and columns are visited in
    turn: a line whose only unknown cell is suppressed, or whose unknown cells add up to fewer than
    10 persons, gets its next-smallest published cell suppressed too (a margin only when nothing
    else is left), until no line changes. Returns the final mask.

    Unpublished cells (null values, categories not listed) are unknown to a reader and count as
    such; margins are checked against the interior, so a total that includes unlisted categories
    is not taken as a sum of the listed ones. Lines without a margin cell are unconstrained: put
    every total that is published anywhere into the table. The pattern rule (no line with a single
    unknown) is the standard heuristic of output checkers; for large tables with many suppressions
    an exact audit (tau-ARGUS) is stronger.
    """
    cells = _table_cells(frame, row_key, col_key, value_col)
    primary = _as_mask(frame, suppressed) & cells.get_column(_VAL).is_not_null()
    cells = cells.with_columns(primary.alias(_SUPP))
    for i, d in enumerate(_DIRECTIONS):
        cells = cells.with_columns(_line_structure(d, i, margin_label))
    for _ in range(cells.height + 1):
        before = cells.get_column(_SUPP).sum()
        for i, d in enumerate(_DIRECTIONS):
            cells = _suppress_next_smallest(cells, i, d, thresholds, is_count)
        if cells.get_column(_SUPP).sum() == before:
            break
    exposed = cells.select(
        pl.any_horizontal(
            [_exposed_lines(i, d, thresholds, is_count) for i, d in enumerate(_DIRECTIONS)]
        ).any()
    ).item()
    if exposed:
        raise DisclosureError(f"column '{value_col}': secondary suppression left a cell derivable")
    return cells.get_column(_SUPP).alias("suppressed")


def suppress_table(
    frame: pl.DataFrame,
    row_key: str,
    col_key: str | None,
    value_col: str,
    thresholds: Thresholds = CBS_DEFAULTS,
    *,
    margin_label: str = "total",
    extra_unsafe: pl.Expr | pl.Series | None = None,
    is_count: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Primary and secondary suppression of one value column of a table in long form.

    Primary: cells with fewer than 10 persons (CBS minimum frequency; `is_count=False` for a
    magnitude column), plus `extra_unsafe` (e.g. `is_dominated(...)` or `is_unsafe_proportion`).
    Secondary: `secondary_suppression`. Suppressed values become null and
    `<value_col>_suppressed` flags them. Returns (safe frame, suppression log); the log keeps one
    row per suppressed cell with its keys and whether it was primary or secondary, for the CBS-side
    log only (a published list of primary cells tells readers which cells are small).
    """
    t = thresholds
    flag = f"{value_col}_suppressed"
    small = frame.with_columns(
        (is_small_count(value_col, t) if is_count else pl.lit(False)).alias(_SUPP)
    ).get_column(_SUPP)
    other = _as_mask(frame, pl.lit(False) if extra_unsafe is None else extra_unsafe)
    final = secondary_suppression(
        frame,
        row_key,
        col_key,
        value_col,
        small | other,
        t,
        margin_label=margin_label,
        is_count=is_count,
    )
    if flag in frame.columns:
        final = final | frame.get_column(flag).cast(pl.Boolean).fill_null(False)
    safe = frame.with_columns(final.alias(flag)).with_columns(
        pl.when(pl.col(flag))
        .then(pl.lit(None, dtype=frame.schema[value_col]))
        .otherwise(pl.col(value_col))
        .alias(value_col)
    )
    keys = [k for k in (row_key, col_key) if k is not None]
    reason = (
        pl.when(pl.col("_small"))
        .then(pl.lit(f"primary: fewer than {t.min_persons} persons"))
        .when(pl.col("_other"))
        .then(pl.lit("primary: other disclosure rule"))
        .otherwise(pl.lit("secondary: recoverable from a margin"))
    )
    log = (
        frame.select(pl.col(keys).cast(pl.String))
        .with_columns(small.alias("_small"), other.alias("_other"), final.alias("_final"))
        .filter(pl.col("_final"))
        .select(*keys, pl.lit(value_col).alias("column"), reason.alias("reason"))
    )
    return safe, log


# --- Rules per export file ----------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """A share of `n` persons: the count with the attribute (`events`) and/or the share itself.

    scale: 1 when `share` is a proportion, 100 when it is a percentage.
    """

    n: str
    share: str | None = None
    events: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Magnitude:
    """A magnitude cell (a sum of a person-level amount) with what the dominance rule needs:
    the largest single contribution `max` (checked, never exported) and the persons `n`."""

    value: str
    max: str
    n: str


@dataclass(frozen=True)
class TableRule:
    """A frequency or magnitude table in CSV, made safe by primary and secondary suppression.

    count_cols: unweighted person counts; each forms a table over (row_key x col_key) with the
        margins labelled `margin_label` (e.g. table1: row_key='level',
        col_key='characteristic'; table2: row_key='department').
    proportions: shares checked with n*p and n*(1-p); an unsafe share is suppressed with its
        count with the attribute (which with n would reveal the complement).
    magnitudes: magnitude columns under the dominance rule.
    derived: statistic column -> the count columns behind it (means, percentages): null wherever
        one of them is suppressed, since with the others it would reveal the suppressed count.
    allowed_extremes: columns named like min/max that are not person-level extremes.
    national_counts: the counts may be national register sizes (the linkage report: 104 million
        spells), so nine digits in a count column are a count, not a RIN; off for every table of
        the cohort or the municipality, whose counts never reach nine digits.
    caseworker_counts: columns counting the caseworkers behind each row; every row must have
        at least `min_caseworkers` (the table is built so; a row with fewer fails the check).

    A table that needs no suppression is exported byte for byte; otherwise it is rewritten with
    the suppressed cells empty and a flag column `<column>_suppressed` per protected column.
    """

    count_cols: tuple[str, ...] = ()
    row_key: str | None = None
    col_key: str | None = None
    margin_label: str = "total"
    proportions: tuple[Proportion, ...] = ()
    magnitudes: tuple[Magnitude, ...] = ()
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allowed_extremes: tuple[str, ...] = ()
    national_counts: bool = False
    caseworker_counts: tuple[str, ...] = ()

    @property
    def count_columns_not_scanned(self) -> tuple[str, ...]:
        """Count columns exempt from the RIN scan (only with national_counts)."""
        return self.count_cols if self.national_counts else ()


@dataclass(frozen=True)
class ModelRule:
    """Model output in CSV (one row per coefficient or model): CBS requires at least 10 residual
    degrees of freedom, read from `df_resid_col` or computed as `n_col` minus `n_params` (a number
    or a column); the output is otherwise releasable."""

    df_resid_col: str = "df_resid"
    n_col: str = "n"
    n_params: int | str | None = None
    allowed_extremes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanRule:
    """A figure, report or other text file: scanned for RIN-like numbers. `sources` are the export
    names of the tables it was drawn from; each must pass unchanged (drawn from suppressed cells,
    a figure would show them). A binary image cannot be scanned and needs its sources."""

    sources: tuple[str, ...] = ()


Rule = TableRule | ModelRule | ScanRule


@dataclass(frozen=True)
class _Check:
    """One row of output_check.csv."""

    check: str
    status: str
    detail: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")


@dataclass
class _Outcome:
    """What one rule made of one file: its checks and, when it changed, the safe table."""

    checks: list[_Check]
    safe_table: pl.DataFrame | None = None

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    @property
    def changed(self) -> bool:
        return self.safe_table is not None


def _findings_check(check: str, findings: Sequence[Finding], passed: str) -> _Check:
    if not findings:
        return _Check(check, "pass", passed)
    return _Check(check, "fail", "; ".join(f"{f.location}: {f.detail}" for f in findings))


def _scan_checks(path: Path, count_columns: Sequence[str] = ()) -> list[_Check]:
    """Identifier and person-level checks of a text file, as output_check rows."""
    findings = check_file(path, count_columns)
    checks = [
        _findings_check(
            "identifiers",
            [f for f in findings if f.check == "identifiers"],
            "no RIN-like number",
        )
    ]
    if path.suffix.lower() in TABLE_SUFFIXES:
        checks.append(
            _findings_check(
                "person_level",
                [f for f in findings if f.check == "person_level"],
                "no person key column, no unit-level rows",
            )
        )
    return checks


def _numeric(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[pl.DataFrame, list[Finding]]:
    """The named text columns as numbers; cells that are not numbers are findings (by row)."""
    numeric = frame.with_columns(
        pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in columns
    )
    not_numbers = _flagged_rows(
        frame, {c: pl.col(c).is_not_null() & numeric.get_column(c).is_null() for c in columns}
    )
    return numeric, [
        Finding("numeric", f"column '{c}', {_data_rows(rows)}", "not a number")
        for c, rows in not_numbers.items()
    ]


def _rule_columns(rule: TableRule) -> list[str]:
    columns = list(rule.count_cols) + [k for k in (rule.row_key, rule.col_key) if k]
    for p in rule.proportions:
        columns += [c for c in (p.n, p.share, p.events) if c]
    for m in rule.magnitudes:
        columns += [m.value, m.max, m.n]
    for target, sources in rule.derived.items():
        columns += [target, *sources]
    return list(dict.fromkeys(columns))


def _count_columns(rule: TableRule) -> list[str]:
    """Every column of person counts: declared counts, the n and events behind shares, the
    persons behind magnitude cells and the counts behind derived statistics."""
    magnitude_values = {m.value for m in rule.magnitudes}
    columns = list(rule.count_cols)
    columns += [c for p in rule.proportions for c in (p.n, p.events) if c]
    columns += [m.n for m in rule.magnitudes]
    columns += [c for deps in rule.derived.values() for c in deps if c not in magnitude_values]
    return list(dict.fromkeys(columns))


def _mask(numeric: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    return numeric.with_columns(expr.alias(_SUPP)).get_column(_SUPP).fill_null(False)


def _primary_suppression(
    numeric: pl.DataFrame, rule: TableRule, t: Thresholds
) -> tuple[dict[str, pl.Series], dict[str, pl.Series], list[_Check]]:
    """Cells that break a rule themselves: small counts, unsafe proportions, dominated cells."""
    none = pl.Series(_SUPP, [False] * numeric.height, dtype=pl.Boolean)
    unsafe = {c: _mask(numeric, is_small_count(c, t)) for c in _count_columns(rule)}
    small = sum(int(m.sum()) for m in unsafe.values())
    checks = [
        _Check(
            "min_count",
            "suppressed" if small else "pass",
            f"{small} cells with fewer than {t.min_persons} persons suppressed"
            if small
            else f"every count has at least {t.min_persons} persons",
        )
    ]
    unsafe_shares: dict[str, pl.Series] = {}
    if rule.proportions:
        n_unsafe = 0
        for p in rule.proportions:
            expr = is_unsafe_proportion(
                p.n,
                p_col=None if p.events else p.share,
                n_event_col=p.events,
                scale=p.scale,
                thresholds=t,
            )
            mask = _mask(numeric, expr)
            n_unsafe += int(mask.sum())
            if p.events:
                unsafe[p.events] = unsafe.get(p.events, none) | mask
            if p.share:
                unsafe_shares[p.share] = unsafe_shares.get(p.share, none) | mask
        checks.append(
            _Check(
                "proportions",
                "suppressed" if n_unsafe else "pass",
                f"{n_unsafe} shares with n*p or n*(1-p) below {t.min_events} suppressed"
                if n_unsafe
                else f"every share has n*p and n*(1-p) of at least {t.min_events}",
            )
        )
    if rule.magnitudes:
        n_dominated = 0
        for m in rule.magnitudes:
            dominated = _mask(numeric, is_dominated(m.value, m.max, t))
            n_dominated += int(dominated.sum())
            unsafe[m.value] = (
                unsafe.get(m.value, none) | dominated | _mask(numeric, is_small_count(m.n, t))
            )
        share = f"{t.max_dominance_share:.0%}"
        checks.append(
            _Check(
                "dominance",
                "suppressed" if n_dominated else "pass",
                (
                    f"{n_dominated} cells where one unit gives more than {share} suppressed"
                    if n_dominated
                    else f"no unit gives more than {share} of a cell"
                )
                + "; per-unit maxima left out of the export",
            )
        )
    return unsafe, unsafe_shares, checks


def _secondary(
    numeric: pl.DataFrame, rule: TableRule, unsafe: dict[str, pl.Series], t: Thresholds
) -> tuple[dict[str, pl.Series], _Check]:
    if rule.row_key is None:
        return unsafe, _Check("secondary", "pass", "no table keys declared: not a cross-table")
    magnitude_values = {m.value for m in rule.magnitudes}
    final = {
        c: secondary_suppression(
            numeric,
            rule.row_key,
            rule.col_key,
            c,
            mask,
            t,
            margin_label=rule.margin_label,
            is_count=c not in magnitude_values,
        )
        for c, mask in unsafe.items()
    }
    added = sum(
        int(final[c].sum()) - int((unsafe[c] & numeric[c].is_not_null()).sum()) for c in final
    )
    detail = (
        f"{added} further cells suppressed so that no suppressed cell follows from the margins"
        if added
        else "no suppressed cell follows from the margins"
    )
    return final, _Check("secondary", "suppressed" if added else "pass", detail)


def _derived(
    numeric: pl.DataFrame,
    rule: TableRule,
    final: dict[str, pl.Series],
    unsafe_shares: dict[str, pl.Series],
) -> tuple[dict[str, pl.Series], list[_Check]]:
    """Statistics (shares, means) that would reveal a suppressed count are suppressed with it."""
    sources = {target: tuple(s) for target, s in rule.derived.items()}
    for p in rule.proportions:
        if p.share:
            sources[p.share] = (*sources.get(p.share, ()), p.n, *([p.events] if p.events else []))
    none = pl.Series(_SUPP, [False] * numeric.height, dtype=pl.Boolean)
    masks = {}
    for target, deps in sources.items():
        mask = unsafe_shares.get(target, none)
        for dep in deps:
            mask = mask | final.get(dep, none)
        masks[target] = mask & numeric.get_column(target).is_not_null()
    if not masks:
        return masks, []
    n = sum(int(m.sum()) for m in masks.values())
    detail = (
        f"{n} statistics suppressed with the counts behind them"
        if n
        else "every statistic rests on published counts"
    )
    return masks, [_Check("derived", "suppressed" if n else "pass", detail)]


def _describe_cells(frame: pl.DataFrame, rule: TableRule, masks: dict[str, pl.Series]) -> str:
    """'n: level=woman/characteristic=sex, ...': suppressed cells by their keys, never values."""
    keys = [k for k in (rule.row_key, rule.col_key) if k]
    parts = []
    for column, mask in masks.items():
        rows = mask.arg_true().to_list()
        if not rows:
            continue
        if keys:
            labels = frame[rows].select(
                pl.concat_str(
                    [pl.concat_str(pl.lit(f"{k}="), pl.col(k).fill_null("")) for k in keys],
                    separator="/",
                )
            )
            where = ", ".join(labels.to_series().to_list())
        else:
            where = _data_rows(rows)
        parts.append(f"{column}: {where}")
    return "; ".join(parts)


def _apply_table_rule(path: Path, rule: TableRule, t: Thresholds) -> _Outcome:
    """CBS rules 1-3, 5-7 on a table: fail on identifiers, person-level rows or extremes, else
    suppress cells (primary, secondary, derived statistics) and drop the per-unit maxima."""
    checks = _scan_checks(path, rule.count_columns_not_scanned)
    frame = read_table(path)
    max_cols = tuple(m.max for m in rule.magnitudes)
    checks.append(
        _findings_check(
            "extremes",
            check_extremes(frame, allowed=rule.allowed_extremes + max_cols),
            "no minima or maxima",
        )
    )
    missing = [c for c in (*_rule_columns(rule), *rule.caseworker_counts) if c not in frame.columns]
    if missing:
        checks.append(_Check("columns", "fail", f"columns missing: {', '.join(missing)}"))
    for column in rule.caseworker_counts:
        if column in frame.columns:
            few = frame.with_row_index("_r").filter(
                pl.col(column).cast(pl.Int64, strict=False).fill_null(0) < t.min_caseworkers
            )
            detail = f"{column}: every row describes at least {t.min_caseworkers} caseworkers"
            status = "pass"
            if few.height:
                status = "fail"
                detail = (
                    f"{column}: {few.height} row(s) describe fewer than {t.min_caseworkers} "
                    f"caseworkers (rows {', '.join(str(r + 1) for r in few['_r'].to_list()[:5])})"
                )
            checks.append(_Check("min_caseworkers", status, detail))
    if any(c.status == "fail" for c in checks):
        return _Outcome(checks)
    value_cols = [c for c in _rule_columns(rule) if c not in (rule.row_key, rule.col_key)]
    numeric, not_numbers = _numeric(frame, value_cols)
    if not_numbers:
        return _Outcome([*checks, _findings_check("numeric", not_numbers, "")])
    unsafe, unsafe_shares, primary_checks = _primary_suppression(numeric, rule, t)
    try:
        final, secondary_check = _secondary(numeric, rule, unsafe, t)
    except (ValueError, DisclosureError) as exc:
        return _Outcome([*checks, *primary_checks, _Check("secondary", "fail", str(exc))])
    derived, derived_checks = _derived(numeric, rule, final, unsafe_shares)
    masks = dict(final)
    for column, mask in derived.items():
        masks[column] = masks.get(column, mask) | mask
    masks = {c: masks[c] & numeric.get_column(c).is_not_null() for c in frame.columns if c in masks}
    n_suppressed = sum(int(m.sum()) for m in masks.values())
    checks += [*primary_checks, secondary_check, *derived_checks]
    checks.append(
        _Check(
            "suppressed_cells",
            "suppressed" if n_suppressed else "pass",
            _describe_cells(frame, rule, masks) if n_suppressed else "nothing suppressed",
        )
    )
    if not n_suppressed and not max_cols:
        return _Outcome(checks)
    safe = frame.with_columns([m.alias(f"{c}_suppressed") for c, m in masks.items()]).with_columns(
        pl.when(pl.col(f"{c}_suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in masks
    )
    return _Outcome(checks, safe.drop(max_cols))


def _apply_model_rule(path: Path, rule: ModelRule, t: Thresholds) -> _Outcome:
    """CBS model rule: at least 10 residual degrees of freedom; nothing is suppressed."""
    checks = _scan_checks(path)
    frame = read_table(path)
    checks.append(
        _findings_check(
            "extremes", check_extremes(frame, allowed=rule.allowed_extremes), "no minima or maxima"
        )
    )
    numeric_cols = [c for c in (rule.df_resid_col, rule.n_col, rule.n_params) if isinstance(c, str)]
    numeric, not_numbers = _numeric(frame, [c for c in numeric_cols if c in frame.columns])
    try:
        findings = not_numbers or check_model(
            numeric,
            t,
            df_resid_col=rule.df_resid_col,
            n_col=rule.n_col,
            n_params=rule.n_params,
        )
    except ValueError as exc:
        findings = [Finding("residual_df", "table", str(exc))]
    checks.append(
        _findings_check(
            "residual_df",
            findings,
            f"every model has at least {t.min_residual_df} residual degrees of freedom",
        )
    )
    return _Outcome(checks)


def _apply_scan_rule(path: Path, rule: ScanRule) -> _Outcome:
    if path.suffix.lower() in TEXT_SUFFIXES:
        return _Outcome(_scan_checks(path))
    if rule.sources:
        detail = "binary file, not scannable: cleared through its source tables"
        return _Outcome([_Check("identifiers", "pass", detail)])
    detail = "binary file cannot be scanned and names no source table (ScanRule.sources)"
    return _Outcome([_Check("identifiers", "fail", detail)])


def _source_check(rule: ScanRule, outcomes: Mapping[str, _Outcome]) -> _Check:
    """A figure or report may only show tables that needed no suppression."""
    problems = []
    for source in rule.sources:
        outcome = outcomes.get(source)
        if outcome is None:
            problems.append(f"source '{source}' is not in the export")
        elif outcome.failed:
            problems.append(f"source '{source}' failed its checks")
        elif outcome.changed:
            problems.append(
                f"source '{source}' needed suppression: draw from the suppressed table and "
                "name that as the source"
            )
    if problems:
        return _Check("sources", "fail", "; ".join(problems))
    return _Check("sources", "pass", "every source table passed unchanged")


def _apply_rule(path: Path, rule: Rule | None, t: Thresholds) -> _Outcome:
    if rule is None:
        return _Outcome([_Check("rule", "fail", "no disclosure rule declared for this file")])
    if not path.is_file():
        return _Outcome([_Check("rule", "fail", "file does not exist")])
    if isinstance(rule, ScanRule):
        return _apply_scan_rule(path, rule)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return _Outcome([_Check("rule", "fail", "table and model rules need a CSV file")])
    if isinstance(rule, TableRule):
        return _apply_table_rule(path, rule, t)
    if isinstance(rule, ModelRule):
        return _apply_model_rule(path, rule, t)
    raise TypeError(f"unknown rule type {type(rule).__name__}")


def _check_export_name(name: str) -> None:
    parts = Path(name).parts
    if Path(name).is_absolute() or ".." in parts or not parts or name == OUTPUT_CHECK:
        raise ValueError(f"export name '{name}' must be a relative path inside the export")


def _output_check_frame(outcomes: Mapping[str, _Outcome]) -> pl.DataFrame:
    rows = [
        {"file": name, "check": c.check, "status": c.status, "detail": c.detail}
        for name, outcome in outcomes.items()
        for c in outcome.checks
    ]
    schema = {"file": pl.String, "check": pl.String, "status": pl.String, "detail": pl.String}
    return pl.DataFrame(rows, schema=schema)


def _write_bundle(
    tmp: Path,
    files: Mapping[str, str | Path],
    outcomes: Mapping[str, _Outcome],
    rules: Mapping[str, Rule],
) -> list[str]:
    """Write each file's safe version into `tmp` and re-scan what was written."""
    problems = []
    for name, outcome in outcomes.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if outcome.changed:
            outcome.safe_table.write_csv(target)
        else:
            shutil.copyfile(files[name], target)
        rule = rules.get(name)
        counts = rule.count_columns_not_scanned if isinstance(rule, TableRule) else ()
        if target.suffix.lower() in TEXT_SUFFIXES and check_file(target, counts):
            problems.append(f"{name} [rescan]: the written file breaks an output rule")
    return problems


def _failure_message(outcomes: Mapping[str, _Outcome], extra: Sequence[str]) -> str:
    lines = [
        f"{name} [{c.check}]: {c.detail}"
        for name, outcome in outcomes.items()
        for c in outcome.checks
        if c.status == "fail"
    ] + list(extra)
    return "export blocked by CBS output rules, nothing exported:\n  " + "\n  ".join(lines)


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Replace `out_dir` by `tmp` with renames on one file system: never a half-written export."""
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        old.rmdir()
        out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out_dir)


def _check_all(
    files: Mapping[str, str | Path], rules: Mapping[str, Rule], thresholds: Thresholds
) -> dict[str, _Outcome]:
    """Every file under its rule, in name order; then the sources of figures and reports."""
    for name in files:
        _check_export_name(name)
    outcomes = {
        name: _apply_rule(Path(files[name]), rules.get(name), thresholds) for name in sorted(files)
    }
    for name, rule in rules.items():
        if name not in outcomes:
            outcomes[name] = _Outcome(
                [_Check("rule", "fail", "rule given for a file not exported")]
            )
        elif isinstance(rule, ScanRule) and rule.sources:
            outcomes[name].checks.append(_source_check(rule, outcomes))
    return outcomes


CHECK_COLUMNS = ("file", "check", "status", "detail", "stage")
STAGES = ("prepare", "suppress", "final")  # the order in which a released file passes them


def in_stage_order(checks: pl.DataFrame) -> pl.DataFrame:
    """Checks stage by stage (prepare, suppress, final, then any other), file by file within a
    stage, each file's checks in the order they ran: the rows come from several jobs."""
    rank = pl.col("stage").replace_strict(STAGES, range(len(STAGES)), default=len(STAGES))
    return checks.sort(rank, "file", maintain_order=True)


def build_export(
    files: Mapping[str, str | Path],
    rules: Mapping[str, Rule],
    out_dir: str | Path,
    thresholds: Thresholds = CBS_DEFAULTS,
    stage: str | None = None,
    earlier: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Build the disclosure-checked export bundle: the only way results leave CBS.

    files: export name (relative path inside `out_dir`, e.g. 'tables/table1.csv') -> source file.
    rules: export name -> TableRule, ModelRule or ScanRule; a file without a rule fails.

    Every file is checked against the CBS output rules; tables are made safe by suppression where
    possible. If anything fails, `DisclosureError` names every failing file and check (never a
    value) and no export exists afterwards, not even an earlier one. Otherwise the safe files and
    `output_check.csv` (file, check, status, detail; status pass or suppressed) replace `out_dir`
    in one rename. Returns the output_check frame.

    With a `stage` (a step of STAGES), output_check.csv has a `stage` column and holds the
    `earlier` stages' rows first (`in_stage_order`): the one writer of every released bundle (the
    safe tables and the export).
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        outcomes = _check_all(files, rules, thresholds)
        failed = any(o.failed for o in outcomes.values())
        problems = [] if failed else _write_bundle(tmp, files, outcomes, rules)
        output_check = _output_check_frame(outcomes)
        if stage is not None:
            output_check = output_check.with_columns(stage=pl.lit(stage)).select(CHECK_COLUMNS)
            if earlier is not None and earlier.height:
                output_check = in_stage_order(
                    pl.concat([earlier.select(CHECK_COLUMNS), output_check])
                )
        if scan_for_identifiers(output_check):
            problems.append(f"{OUTPUT_CHECK} [identifiers]: a detail holds a RIN-like number")
        if failed or problems:
            raise DisclosureError(_failure_message(outcomes, problems))
        output_check.write_csv(tmp / OUTPUT_CHECK)
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        raise
    return output_check
