"""Validate every delivery at the boundary: declarative rules, evaluated as DuckDB SQL.

The rules follow the input contract (/work/shared/contract/README.md) and are data, not loops:

- `CBS_COLUMNS`: per CBS column (names as the contract spells them; `GEM<yyyy>` by pattern), a
  `ColumnRule` of `Check`s: the key (RINPERSOONS one letter, RINPERSOON nine digits), code lists
  (SECM, sex, household type and position), code patterns (origin, education, ATC4, municipality),
  whole numbers with a range (birth year and month, number of children) and dates (`YYYYMMDD`, a
  real calendar day in a plausible range; end dates may be open).
- `CBS_TABLES`: per CBS stem, what holds for the whole table: the key of a yearly (TAB) file is
  unique (MEDICIJNTAB: person and ATC4), and the spells (BUS) of one person never overlap and never
  end before they start.
- `MUNICIPAL_COLUMNS` and `MUNICIPAL_TABLES`: the same for the cleaned municipal extracts (the RIN
  may be empty: an unlinked row; REGELING from its code list; dates within 1990-2030).

Each check is one of three actions:
- `repair`: the contract allows the repair and it is applied (a RINPERSOON that lost its zero
  padding is padded to nine digits, except in a column that the .sav file stores as text, where
  a short one was cut and is an error; a municipality code is padded to four; spaces around a
  key or a date are trimmed; RINPERSOONS is upper-cased; 29 February of a year that is not a
  leap year becomes 1 March);
- `accept`: allowed as delivered and counted (an open end, an unknown code, a code with a leading
  space such as `" 4"`, which every query trims before comparing);
- `error`: the value breaks the contract; the run stops with one `ValidationError` naming the
  file, each column, the problem and at most five data-row numbers (never a value), and nothing is
  written.

Every check's count goes into the validation report (`qc/validation_<table>.csv`), repairs and
acceptances included, so that an analyst sees what was changed and what was let through.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from wwvw.core import db
from wwvw.core.errors import DeliveryError, example_rows
from wwvw.ingest.tables import KEY

REPAIR, ACCEPT, ERROR = "repaired", "accepted", "error"
ROW = "_row"  # 1-based data-row number of the delivered file (header not counted)
UNKNOWN_CODES = ("", "-", "--", "---", "----", "0000")
OPEN_ENDS = db.OPEN_ENDS
CBS_DATE_RANGE = ("19000101", "20501231")
MUNICIPAL_DATE_RANGE = ("1990-01-01", "2030-12-31")
SECM_CODES = ("11", "12", "13", "14", "15", "21", "22", "23", "24", "25", "26", "31", "32")
REGELINGEN = ("PW", "IOAW", "IOAZ", "BBZ")
REPORT_COLUMNS = ("file", "column", "check", "action", "rows", "detail")
# the spell check packs a validated key (one letter, nine digits) into one BIGINT person
PERSON_BASE = 10**9
PERSON_PACKING_ERROR = "spell check: a key that is not one letter and nine digits reached it"


class ValidationError(DeliveryError):
    """Values or rows that break the input contract; names file, column, problem and rows."""


@dataclass(frozen=True)
class Check:
    """One test on a column. `sql` is true for the rows it counts; `{c}` stands for the column as
    delivered (repair, accept) or as repaired (error)."""

    name: str
    action: str
    sql: str
    detail: str


@dataclass(frozen=True)
class ColumnRule:
    checks: tuple[Check, ...]
    repair: str | None = None  # SQL of the repaired value; `{c}` the value as delivered
    # the rule where the delivered file stores the column as text (an SPSS string), if different:
    # a zero-padded key that is short there was cut, not stripped of its zeros
    as_text: ColumnRule | None = None


@dataclass(frozen=True)
class TableRule:
    """What holds for a whole table: a unique key (TAB) or the spells of one person (BUS)."""

    key: tuple[str, ...] = ()
    spell: tuple[str, str] | None = None
    no_overlap: bool = True  # spells of one person never overlap (CBS BUS files)
    same_month_end_ok: bool = False  # an end before the start in the same month is kept
    # (earlier, later, what they are): two dates of one row that cannot be in the other order
    order: tuple[str, str, str] | None = None


@dataclass
class Outcome:
    """What validation found: the report and the errors (each one line of the message)."""

    file: str
    report: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bad_columns: set[str] = field(default_factory=set)  # table checks skip these
    # columns whose repair leaves every value of this file as it is (read as they are)
    unchanged: set[str] = field(default_factory=set)

    def count(self, column: str, check: Check | str, action: str, rows: int, detail: str) -> None:
        name = check if isinstance(check, str) else check.name
        self.report.append(
            {
                "file": self.file,
                "column": column,
                "check": name,
                "action": action if action != ERROR or rows else "passed",
                "rows": int(rows),
                "detail": detail,
            }
        )

    @property
    def repaired(self) -> int:
        return sum(r["rows"] for r in self.report if r["action"] == REPAIR)

    def frame(self) -> pl.DataFrame:
        schema = {c: pl.Int64 if c == "rows" else pl.String for c in REPORT_COLUMNS}
        return pl.DataFrame(self.report, schema=schema, orient="row")

    def raise_errors(self) -> None:
        if self.errors:
            raise ValidationError(
                f"{self.file}: {len(self.errors)} problem(s) that the input contract does not "
                "allow; nothing was written. Row numbers count the data rows of the delivered "
                "file from 1 (the header is not counted):\n  " + "\n  ".join(self.errors)
            )


# --- building blocks of the rules ---------------------------------------------------------------


def _list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _text(c: str = "{c}") -> str:
    return f"coalesce(trim({c}), '')"


def rin_source(required: bool = True) -> ColumnRule:
    """RINPERSOONS: one letter (R = in the population register); upper-cased and trimmed."""
    present = "" if required else "{c} IS NOT NULL AND "
    return ColumnRule(
        (
            Check(
                "case_or_spaces",
                REPAIR,
                "{c} <> upper(trim({c}))",
                "RINPERSOONS in lower case or with spaces: upper-cased and trimmed",
            ),
            Check(
                "not_one_letter",
                ERROR,
                present + f"NOT regexp_full_match({_text()}, '[A-Z]')",
                "is not a one-letter RINPERSOONS (R = population register)"
                + ("" if required else " nor empty"),
            ),
        ),
        repair="upper(trim({c}))",
    )


def _short_number(width: int) -> str:
    """True for a value of 1 to width - 1 digits (spaces around it aside)."""
    return f"regexp_full_match(trim({{c}}), '[0-9]{{1,{width - 1}}}')"


def _cut_short(width: int, what: str) -> Check:
    """A zero-padded key of fewer than `width` digits where the file stores it as text: CBS
    writes it padded, so the value was cut, not stripped of its zeros (a damaged file;
    polars-readstat cuts a string at a byte that is not valid UTF-8). Padding it would make
    another person's key."""
    return Check(
        "cut_short",
        ERROR,
        _short_number(width),
        f"{what} of fewer than {width} digits in a column that the .sav file stores as text: "
        "a string cut short in a damaged file (zeros are only lost from numbers), not padded; "
        "compare the file with CBS's checksum (qc/input_files.json has its SHA-256)",
    )


def rin_number(required: bool = True) -> ColumnRule:
    """RINPERSOON: nine digits; a number that lost its zero padding is padded again (not where
    the file stores it as text: see `_cut_short`)."""
    short = _short_number(9)
    present = "" if required else "{c} IS NOT NULL AND "
    trimmed = Check(
        "spaces_trimmed", REPAIR, "{c} <> trim({c})", "spaces around RINPERSOON: trimmed"
    )
    nine_digits = Check(
        "not_nine_digits",
        ERROR,
        present + f"NOT regexp_full_match({_text()}, '[0-9]{{9}}')",
        "is not a RINPERSOON of nine digits" + ("" if required else " nor empty"),
    )
    padded = Check(
        "zero_padding_added",
        REPAIR,
        short,
        "RINPERSOON with fewer than nine digits (zero padding lost, e.g. in a spreadsheet):"
        " zero-padded to nine",
    )
    return ColumnRule(
        (padded, trimmed, nine_digits),
        repair=f"CASE WHEN {short} THEN lpad(trim({{c}}), 9, '0') ELSE trim({{c}}) END",
        as_text=ColumnRule((trimmed, _cut_short(9, "RINPERSOON"), nine_digits), repair="trim({c})"),
    )


def _padded_and_unknown(unknown: bool) -> tuple[Check, ...]:
    checks = [
        Check(
            "code_with_spaces",
            ACCEPT,
            "{c} <> trim({c})",
            "code with a leading or trailing space (e.g. ' 4'): kept, trimmed before comparing",
        )
    ]
    if unknown:
        checks.append(
            Check(
                "unknown",
                ACCEPT,
                f"{_text()} IN ({_list(UNKNOWN_CODES)})",
                "unknown (-, --, ----, 0000 or empty): kept as unknown",
            )
        )
    return tuple(checks)


def code(codes: Sequence[str], what: str, unknown: bool = True) -> ColumnRule:
    allowed = tuple(codes) + (UNKNOWN_CODES if unknown else ())
    return ColumnRule(
        (
            *_padded_and_unknown(unknown),
            Check(
                "not_in_code_list", ERROR, f"{_text()} NOT IN ({_list(allowed)})", f"is not {what}"
            ),
        )
    )


def pattern(regex: str, what: str, unknown: bool = True) -> ColumnRule:
    unknown_ok = f"{_text()} NOT IN ({_list(UNKNOWN_CODES)}) AND " if unknown else ""
    return ColumnRule(
        (
            *_padded_and_unknown(unknown),
            Check(
                "malformed_code",
                ERROR,
                unknown_ok + f"NOT regexp_full_match({_text()}, '{regex}')",
                f"is not {what}",
            ),
        )
    )


def whole_number(low: int, high: int, what: str, unknown: bool = True) -> ColumnRule:
    unknown_ok = f"{_text()} NOT IN ({_list(UNKNOWN_CODES)}) AND " if unknown else ""
    return ColumnRule(
        (
            *_padded_and_unknown(unknown),
            Check(
                "not_a_number_in_range",
                ERROR,
                unknown_ok
                + f"(NOT regexp_full_match({_text()}, '-?[0-9]{{1,9}}') "
                + f"OR NOT (TRY_CAST({_text()} AS BIGINT) BETWEEN {low} AND {high}))",
                f"is not {what} (a whole number from {low} to {high}"
                + (", or unknown)" if unknown else ")"),
            ),
        )
    )


def padded_code(width: int, what: str) -> ColumnRule:
    """A numeric code of `width` digits, zero-padded (municipality 0599): short codes padded, in
    a column stored as text too (unlike RINPERSOON: codes without their zeros are a delivery we
    accept, tests/corpus). A code cut short in a damaged file is padded as well: the input
    manifest's checksum is what catches that."""
    short = _short_number(width)
    rule = pattern(f"[0-9]{{{width}}}", what)
    return ColumnRule(
        (
            Check(
                "zero_padding_added",
                REPAIR,
                short,
                f"code with fewer than {width} digits (zero padding lost): zero-padded to {width}",
            ),
            *rule.checks,
        ),
        repair=f"CASE WHEN {short} THEN lpad(trim({{c}}), {width}, '0') ELSE {{c}} END",
    )


def required_text(what: str) -> ColumnRule:
    return ColumnRule((Check("empty", ERROR, f"{_text()} = ''", f"is empty ({what} is required)"),))


def cbs_date(open_end: bool, date_range: tuple[str, str] = CBS_DATE_RANGE) -> ColumnRule:
    """A CBS date: 8 characters YYYYMMDD, a real day, in a plausible range; an end may be open."""
    value = _text()
    leap = (
        f"(regexp_full_match({value}, '[0-9]{{4}}0229') "
        f"AND try_strptime({value}, '%Y%m%d') IS NULL)"
    )
    not_open = f"{{c}} NOT IN ({_list(OPEN_ENDS)}) AND " if open_end else ""
    is_date = "(regexp_full_match({c}, '[0-9]{8}') AND try_strptime({c}, '%Y%m%d') IS NOT NULL)"
    low, high = date_range
    checks = [
        Check("spaces_trimmed", REPAIR, "{c} <> trim({c})", "spaces around a date: trimmed"),
        Check(
            "leap_day_moved",
            REPAIR,
            leap,
            "29 February of a year that is not a leap year: moved to 1 March (the next day)",
        ),
    ]
    if open_end:
        checks.append(
            Check(
                "open_end",
                ACCEPT,
                f"{value} IN ({_list(OPEN_ENDS)})",
                "open end (empty, 20501231, 20991231, 88888888 or 99991231): ongoing",
            )
        )
    checks += [
        Check(
            "not_a_date",
            ERROR,
            not_open + f"NOT {is_date}",
            "is not a date YYYYMMDD (a real calendar day)"
            + (" nor an open end" if open_end else ""),
        ),
        Check(
            "date_out_of_range",
            ERROR,
            not_open + f"{is_date} AND ({{c}} < '{low}' OR {{c}} > '{high}')",
            f"is a date outside {low[:4]}-{high[:4]}, implausible for this register",
        ),
    ]
    return ColumnRule(
        tuple(checks),
        repair=f"CASE WHEN {leap} THEN substr({value}, 1, 4) || '0301' ELSE {value} END",
    )


def municipal_date(
    required: bool, date_range: tuple[str, str] = MUNICIPAL_DATE_RANGE
) -> ColumnRule:
    """A parsed municipal date (DATE): present if required, within a plausible range."""
    low, high = date_range
    checks = [
        Check(
            "date_out_of_range",
            ERROR,
            f"{{c}} < DATE '{low}' OR {{c}} > DATE '{high}'",
            f"is a date outside {low[:4]}-{high[:4]}, implausible for this extract",
        )
    ]
    if required:
        checks.insert(0, Check("missing", ERROR, "{c} IS NULL", "is empty (a required date)"))
    else:
        checks.insert(0, Check("missing", ACCEPT, "{c} IS NULL", "empty: kept as missing"))
    return ColumnRule(tuple(checks))


def regeling() -> ColumnRule:
    return ColumnRule(
        (
            Check("missing", ERROR, "{c} IS NULL", "is empty (REGELING is required)"),
            Check(
                "not_in_code_list",
                ERROR,
                f"upper({{c}}) NOT IN ({_list(REGELINGEN)})",
                f"is not a REGELING of the contract ({', '.join(REGELINGEN)}, any case)",
            ),
        )
    )


# --- the rules of the contract ------------------------------------------------------------------

CBS_COLUMNS: dict[str, ColumnRule] = {
    "RINPERSOONS": rin_source(),
    "RINPERSOON": rin_number(),
    "SECM": code(SECM_CODES, "a SECM code of the contract (11-15, 21-26, 31, 32)", unknown=False),
    "AANVSECM": cbs_date(open_end=False),
    "EINDSECM": cbs_date(open_end=True),
    "GBAGESLACHT": code(("1", "2"), "a sex code (1 man, 2 woman, - unknown)"),
    "GBAGEBOORTEJAAR": whole_number(1880, 2030, "a birth year"),
    "GBAGEBOORTEMAAND": whole_number(1, 12, "a birth month"),
    "GBAHERKOMSTGROEPERING": pattern("[0-9]{4}", "a four-digit country code"),
    "OPLNIVSOI2016AGG4HBMETNIRWO": pattern(
        "[1-3][0-9]{3}", "a four-digit SOI education code starting 1, 2 or 3 (or ----)"
    ),
    "DATUMAANVANGHH": cbs_date(open_end=False),
    "DATUMEINDEHH": cbs_date(open_end=True),
    "TYPHH": code([str(i) for i in range(1, 9)], "a household type (TYPHH 1-8)"),
    "PLHH": code([str(i) for i in range(1, 11)], "a position in the household (PLHH 1-10)"),
    "AANTALKINDHH": whole_number(0, 30, "a number of children in the household"),
    "ATC4": pattern("[A-Za-z][0-9]{2}[A-Za-z]", "a four-character ATC code such as N06A", False),
    "GBADATUMAANVANGADRESHOUDING": cbs_date(open_end=False),
    "GBADATUMEINDEADRESHOUDING": cbs_date(open_end=True),
    "SOORTOBJECTNUMMER": required_text("the object type"),
    "RINOBJECTNUMMER": pattern("[0-9]+", "an object number (digits)", unknown=False),
}
GEM_COLUMN = re.compile(r"^GEM\d{4}$")
GEM_RULE = padded_code(4, "a four-digit municipality code such as 0599")

CBS_TABLES: dict[str, TableRule] = {
    "SECM": TableRule(spell=("AANVSECM", "EINDSECM")),
    "GBAPERSOON": TableRule(key=tuple(KEY)),
    "HOOGSTEOPL": TableRule(key=tuple(KEY)),
    "GBAHUISHOUDENS": TableRule(spell=("DATUMAANVANGHH", "DATUMEINDEHH")),
    "WANBZVW": TableRule(key=tuple(KEY)),
    "MEDICIJN": TableRule(key=(*KEY, "ATC4")),
    "GBAADRESOBJECT": TableRule(spell=("GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING")),
    "VSLGWB": TableRule(key=("SOORTOBJECTNUMMER", "RINOBJECTNUMMER")),
}

_MUNICIPAL_KEY = {"RINPERSOONS": rin_source(required=False), "RINPERSOON": rin_number(False)}
MUNICIPAL_COLUMNS: dict[str, dict[str, ColumnRule]] = {
    "uitkeringen": {
        **_MUNICIPAL_KEY,
        "REGELING": regeling(),
        "DATUM_AANVANG": municipal_date(required=True),
        "DATUM_EINDE": municipal_date(required=False),
    },
    "werkintake": {
        **_MUNICIPAL_KEY,
        "INTAKEDATUM": municipal_date(required=True),
        "VERWIJSDATUM": municipal_date(required=False),
    },
    "interventies": {
        **_MUNICIPAL_KEY,
        "STARTDATUM": municipal_date(required=True),
        "EINDDATUM": municipal_date(required=False),
    },
}
MUNICIPAL_TABLES: dict[str, TableRule] = {
    "uitkeringen": TableRule(
        spell=("DATUM_AANVANG", "DATUM_EINDE"), no_overlap=False, same_month_end_ok=True
    ),
    "interventies": TableRule(
        spell=("STARTDATUM", "EINDDATUM"), no_overlap=False, same_month_end_ok=True
    ),
    # a referral comes out of its intake: one dated before it belongs to another intake, or was
    # typed wrong, and would move the client into or out of the cohort's window
    "werkintake": TableRule(
        order=("INTAKEDATUM", "VERWIJSDATUM", "the referral is dated before its intake")
    ),
}


def cbs_column_rule(column: str, stored_as_text: bool = False) -> ColumnRule | None:
    """The rule of a CBS column; `stored_as_text`: the delivered .sav file stores it as a
    string (its `as_text` rule, where it has one)."""
    rule = GEM_RULE if GEM_COLUMN.match(column.upper()) else CBS_COLUMNS.get(column.upper())
    if rule is not None and stored_as_text and rule.as_text is not None:
        return rule.as_text
    return rule


# --- evaluation ---------------------------------------------------------------------------------


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _fill(template: str, column_sql: str) -> str:
    return template.replace("{c}", column_sql)


def _repaired_sql(column: str, rule: ColumnRule | None) -> str:
    if rule is None or rule.repair is None:
        return _quote(column)
    return f"({_fill(rule.repair, _quote(column))})"


def _condition(column: str, rule: ColumnRule, check: Check) -> str:
    target = _repaired_sql(column, rule) if check.action == ERROR else _quote(column)
    return f"(({_fill(check.sql, target)}) IS TRUE)"


def _first_rows(con: duckdb.DuckDBPyConnection, relation: str, condition: str) -> list[int]:
    query = f"SELECT {ROW} FROM {relation} WHERE {condition} ORDER BY {ROW} LIMIT 5"
    return [r[0] for r in con.execute(query).fetchall()]


def _error_line(columns: str, detail: str, rows: int, first: list[int]) -> str:
    return f"{columns}: {detail}: {rows} row(s), {example_rows(first, rows)}"


def check_columns(
    con: duckdb.DuckDBPyConnection, relation: str, rules: Mapping[str, ColumnRule], out: Outcome
) -> None:
    """Every column check, evaluated once per distinct value of its column (weighted by the rows
    holding it), not once per row: a column holds far fewer values than rows (SECM codes, dates,
    a person's key on each of their spells), and the regular expressions are the cost. The first
    rows of each violated error check are looked up row by row. A column whose repair changes
    none of its values is noted in `out.unchanged`, so that later steps read it as it is."""
    for column, rule in rules.items():
        if not rule.checks:
            continue
        repaired = _repaired_sql(column, rule)
        counts = con.execute(
            "SELECT "
            + ", ".join(
                f"coalesce(sum(n) FILTER (WHERE {_condition(column, rule, check)}), 0)"
                for check in rule.checks
            )
            + f", count(*) FILTER (WHERE {repaired} IS DISTINCT FROM {_quote(column)})"
            + f" FROM (SELECT {_quote(column)}, count(*) AS n FROM {relation} GROUP BY ALL)"
        ).fetchall()[0]
        *counts, changed = map(int, counts)
        if not changed:
            out.unchanged.add(column)
        for check, n in zip(rule.checks, counts, strict=True):
            out.count(column, check, check.action, n, check.detail)
            if check.action == ERROR and n:
                first = _first_rows(con, relation, _condition(column, rule, check))
                out.errors.append(_error_line(f"column {column}", check.detail, n, first))
                out.bad_columns.add(column)


def repaired_columns(columns: list[str], rules: Mapping[str, ColumnRule], out: Outcome) -> str:
    """The SELECT list of the repaired values: each column's repair, or the column as it is when
    it has no rule or its repair changes none of its values (no expression per row)."""
    return ", ".join(
        f"{_quote(c) if c in out.unchanged else _repaired_sql(c, rules.get(c))} AS {_quote(c)}"
        for c in columns
    )


def _flagged(con, query: str) -> tuple[int, list[int]]:
    """(count, first five rows) of a query that selects the `_row` of flagged rows."""
    count = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
    if not count:
        return 0, []
    first = con.execute(f"SELECT {ROW} FROM ({query}) ORDER BY {ROW} LIMIT 5").fetchall()
    return count, [r[0] for r in first]


def check_table(
    con: duckdb.DuckDBPyConnection, relation: str, rule: TableRule, columns: list[str], out: Outcome
) -> None:
    """Key uniqueness and spells, over the repaired values (skipped when a column is absent, or
    has values that already failed their column checks)."""
    present = set(columns) - out.bad_columns
    if rule.key and present.issuperset(rule.key):
        keys = ", ".join(f"upper(trim({_quote(k)})) AS k{i}" for i, k in enumerate(rule.key))
        names = ", ".join(f"k{i}" for i in range(len(rule.key)))
        # the duplicated keys first (one pass); the rows holding them only when there are any
        con.execute(
            "CREATE OR REPLACE TEMP TABLE duplicated_keys AS "
            f"SELECT {names} FROM (SELECT {keys} FROM {relation}) GROUP BY ALL HAVING count(*) > 1"
        )
        duplicated = con.execute("SELECT count(*) FROM duplicated_keys").fetchall()[0][0]
        query = (
            f"SELECT {ROW} FROM (SELECT {ROW}, {keys} FROM {relation}) "
            f"SEMI JOIN duplicated_keys USING ({names})"
        )
        columns_label = ", ".join(rule.key)
        detail = f"the key ({columns_label}) occurs more than once; it must be unique"
        flagged = _flagged(con, query) if duplicated else (0, [])
        _count_table_check(out, columns_label, "duplicate_key", *flagged, detail)
    if rule.spell and present.issuperset((*KEY, *rule.spell)):
        _check_spells(con, relation, rule, out)
    if rule.order and present.issuperset(rule.order[:2]):
        earlier, later, detail = rule.order
        query = f"SELECT {ROW} FROM {relation} WHERE {_quote(later)} < {_quote(earlier)}"
        _count_table_check(out, f"{earlier}, {later}", "date_order", *_flagged(con, query), detail)


def _count_table_check(out, columns, name, rows, first, detail, action=ERROR) -> None:
    out.count(columns, name, action, rows, detail)
    if rows and action == ERROR:
        out.errors.append(_error_line(f"columns {columns}", detail, rows, first))


def _check_spells(con, relation: str, rule: TableRule, out: Outcome) -> None:
    start, end = (_quote(c) for c in rule.spell)
    label = ", ".join(rule.spell)
    if rule.same_month_end_ok:  # municipal: DATE columns, an empty end is NULL
        spells = f"SELECT {ROW}, {start} AS s, {end} AS e FROM {relation} WHERE {end} IS NOT NULL"
        same_month = "date_trunc('month', e) = date_trunc('month', s)"
        early = f"SELECT {ROW} FROM ({spells}) WHERE e < s AND NOT ({same_month})"
        kept = f"SELECT {ROW} FROM ({spells}) WHERE e < s AND {same_month}"
        _count_table_check(
            out,
            label,
            "end_before_start_same_month",
            *_flagged(con, kept),
            "end before the start within the same month: kept as a one-month record",
            action=ACCEPT,
        )
        detail = "the end lies in a month before the start"
        _count_table_check(out, label, "end_before_start", *_flagged(con, early), detail)
        return
    # These are repaired values that passed their column checks: RINPERSOONS one capital letter,
    # RINPERSOON nine digits, each date eight digits or an open end. As integers the dates order
    # exactly as the strings do, and a person is one BIGINT (the letter's code times 10^9 plus
    # the number, one-to-one on such keys): the window below partitions on it and sorts the
    # spells faster than on the letter and the number (SECMBUS at national scale, the overlap
    # check alone: 28 -> 18 s; it was 50 s on the two strings). Should a rule ever let another
    # key through, the packing stops with an error instead of merging persons, and a plain CAST
    # fails loudly.
    source, number = (_quote(k) for k in KEY)
    n = f"CAST({number} AS BIGINT)"
    person = f"""CASE WHEN length({source}) = 1 AND {n} BETWEEN 0 AND {PERSON_BASE - 1}
        THEN CAST(ascii({source}) AS BIGINT) * {PERSON_BASE} + {n}
        ELSE error('{PERSON_PACKING_ERROR}') END"""
    spells = f"""
        SELECT {ROW}, {person} AS person,
               CAST({start} AS INTEGER) AS s,
               CASE WHEN {end} IN ({_list(OPEN_ENDS)}) THEN 99999999
                    ELSE CAST({end} AS INTEGER) END AS e
        FROM {relation}"""
    early = f"SELECT {ROW} FROM ({spells}) WHERE e < s"
    _count_table_check(
        out, label, "end_before_start", *_flagged(con, early), "the spell ends before it starts"
    )
    if rule.no_overlap:
        overlap = f"""
            SELECT {ROW} FROM (
                SELECT {ROW}, s, max(e) OVER (
                    PARTITION BY person
                    ORDER BY s, e, {ROW}
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
                FROM ({spells}))
            WHERE previous_end >= s"""
        _count_table_check(
            out,
            label,
            "overlapping_spells",
            *_flagged(con, overlap),
            "spells of one person overlap (a BUS file's spells of a person never overlap)",
        )


def _connect(
    memory_limit_mb: int | None = None,
    threads: int | None = None,
    temp_directory: str | None = None,
) -> duckdb.DuckDBPyConnection:
    con = db.connect(
        memory_limit_mb=memory_limit_mb, threads=threads, temp_directory=temp_directory
    )
    con.execute("SET preserve_insertion_order = true")
    return con


def validate_cbs(
    converted: str | os.PathLike,
    out_path: str | os.PathLike,
    file: str,
    stem: str | None,
    memory_limit_mb: int | None = None,
    threads: int | None = None,
    temp_directory: str | None = None,
    stored_as_text: Collection[str] = (),
) -> Outcome:
    """Validate a converted CBS table (all-string Parquet, rows in file order) and write it to
    `out_path`, repaired where the contract allows. Raises ValidationError (nothing written).

    `file` names the delivered file in messages; `stem` (GBAPERSOON, SECM, ...) selects the
    table rules, None for none. Memory, threads and spill directory as the rule's resources.
    `stored_as_text`: the columns the delivered .sav file stores as strings (see `_cut_short`).
    """
    converted, out_path = Path(converted), Path(out_path)
    out = Outcome(file)
    con = _connect(memory_limit_mb, threads, temp_directory)
    try:
        con.execute(
            "CREATE VIEW delivered AS SELECT *, file_row_number + 1 AS _row "
            f"FROM read_parquet('{converted.as_posix()}', file_row_number = true)"
        )
        columns = [c for c in pl.read_parquet_schema(converted) if c != ROW]
        rows = con.execute("SELECT count(*) FROM delivered").fetchall()[0][0]
        out.count("", "rows", "read", rows, "data rows in the file")
        text = {c.upper() for c in stored_as_text}
        rules = {c: r for c in columns if (r := cbs_column_rule(c, c.upper() in text)) is not None}
        check_columns(con, "delivered", rules, out)
        select = repaired_columns(columns, rules, out)
        con.execute(f"CREATE VIEW repaired AS SELECT {ROW}, {select} FROM delivered")
        table_rule = CBS_TABLES.get((stem or "").upper())
        if table_rule is not None:
            check_table(con, "repaired", table_rule, columns, out)
        out.raise_errors()
        if out.repaired:
            con.execute(
                f"COPY (SELECT {select} FROM delivered) TO '{Path(out_path).as_posix()}' "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        else:
            os.replace(converted, out_path)
    finally:
        con.close()
    return out


def validate_extract(frame: pl.DataFrame, file: str, extract: str) -> tuple[pl.DataFrame, Outcome]:
    """Validate a cleaned municipal extract (strings trimmed, missing as null, dates parsed, with
    the data-row number in `_row`); return it repaired where the contract allows, and the outcome.
    Raises ValidationError."""
    out = Outcome(file)
    out.count("", "rows", "read", frame.height, "data rows kept after dropping exact duplicates")
    rules = {c: r for c, r in MUNICIPAL_COLUMNS.get(extract, {}).items() if c in frame.columns}
    con = _connect()
    try:
        con.register("delivered", frame)
        check_columns(con, "delivered", rules, out)
        select = repaired_columns([c for c in frame.columns if c != ROW], rules, out)
        con.execute(f"CREATE VIEW repaired AS SELECT {ROW}, {select} FROM delivered")
        table_rule = MUNICIPAL_TABLES.get(extract)
        if table_rule is not None:
            check_table(con, "repaired", table_rule, frame.columns, out)
        out.raise_errors()
        repaired = con.sql(f"SELECT * FROM repaired ORDER BY {ROW}").pl()
    finally:
        con.close()
    return repaired.select(frame.columns), out
