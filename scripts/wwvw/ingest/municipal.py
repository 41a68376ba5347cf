"""Clean the municipal extracts: encoding, missing tokens, trimming, duplicates, dates, departments.

Each extract is read as text with its encoding detected, every value kept as a string, then:
exact duplicate rows are dropped (counted), values trimmed, the missing-value tokens mapped to
null, the date columns parsed from their mixed formats, and rows whose person CBS could not link
(empty RINPERSOONS or RINPERSOON) flagged `linked = false`: kept and counted, never analysed.

Before anything is cleaned the privacy guard screens every column of the file (`wwvw.ingest.privacy`):
a direct identifier stops the run. The cleaned frame carries `_row`, the data-row number in the
delivered file (1-based, header not counted), so that every message can point at rows without
quoting a value; the rule script validates the frame (`wwvw.ingest.validation`) and drops `_row`.
"""

import codecs
import csv
import io
from dataclasses import dataclass

import polars as pl
from charset_normalizer import from_bytes

from wwvw.core import csvtext
from wwvw.core.errors import DeliveryError, example_rows, mask_numbers
from wwvw.ingest import privacy
from wwvw.ingest.privacy import FREE_TEXT_COLUMNS as FREE_TEXT

MISSING_TOKENS = ("", "null", "-", "onbekend")
ROW = "_row"
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")
EXTRACTS = {
    "uitkeringen": {
        "columns": ["RINPERSOONS", "RINPERSOON", "REGELING", "DATUM_AANVANG", "DATUM_EINDE"],
        "dates": ["DATUM_AANVANG", "DATUM_EINDE"],
    },
    "werkintake": {
        "columns": [
            "RINPERSOONS",
            "RINPERSOON",
            "INTAKEDATUM",
            "LOCATIE",
            "WERKCONSULENT",
            "AFDELING",
            "VERWIJSDATUM",
        ],
        "dates": ["INTAKEDATUM", "VERWIJSDATUM"],
    },
    "interventies": {
        "columns": ["RINPERSOONS", "RINPERSOON", "INTERVENTIE", "STARTDATUM", "EINDDATUM"],
        "dates": ["STARTDATUM", "EINDDATUM"],
        "keep_raw": ["INTERVENTIE"],  # harmonisation normalises the free text itself
    },
}


class ExtractError(DeliveryError, ValueError):
    """A municipal extract that cannot be cleaned; the message names file, column and rows."""


@dataclass
class Cleaned:
    frame: pl.DataFrame
    report: pl.DataFrame


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and encoding: valid UTF-8 (after a BOM or not), else the best guess (Windows-1252
    expected, also behind a UTF-8 BOM that claims otherwise). UTF-16 is refused."""
    kind = csvtext.binary_kind(data[:8])
    if kind:
        raise ExtractError(
            f"{name}: the file is {kind} by its first bytes, not a CSV text file: export the "
            "extract as a ';'-separated CSV (UTF-8 or Windows-1252)"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4096]:
        raise ExtractError(
            f"{name}: the file looks like UTF-16 (or another two-byte encoding); the contract "
            "allows UTF-8 (with or without BOM) or Windows-1252: save it in one of those"
        )
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    guess = from_bytes(body, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if guess is None:
        raise ExtractError(f"{name}: cannot detect the text encoding")
    return str(guess), guess.encoding + (" behind a UTF-8 byte-order mark" if bom else "")


def read_extract(data: bytes, name: str, columns: list[str]) -> tuple[pl.DataFrame, str]:
    """The extract as all-string columns with the contract's names (matched case-insensitively)."""
    text, encoding = decode(data, name)
    if not text.strip():
        raise ExtractError(f"{name}: the file is empty")
    header = text.splitlines()[0]
    if ";" not in header:
        raise ExtractError(
            f"{name}: expected ';' as delimiter in the header line, {_delimiter(header)}"
        )
    header_names = _check_fields(text, name)
    if not {n.strip().upper() for n in header_names} & set(columns):
        # said before anything quotes the first line: without a header it is a person's row
        raise ExtractError(
            f"{name}: the first line names none of the expected columns ({', '.join(columns)}): "
            "the header row is missing, or this is another file"
        )
    try:
        frame = pl.read_csv(text.encode("utf-8"), separator=";", infer_schema=False)
    except pl.exceptions.PolarsError:
        raise ExtractError(f"{name}: cannot be read as a ';'-separated CSV") from None
    privacy.check_column_names(name, header_names, municipal=True)
    privacy.check_municipal_values(name, frame)
    if frame.height == 0:
        raise ExtractError(f"{name}: the file has a header but no data rows")
    if len(header_names) != frame.width:
        raise ExtractError(f"{name}: cannot be read as a ';'-separated CSV (header unclear)")
    positions: dict[str, list[int]] = {}
    for position, column in enumerate(header_names):
        positions.setdefault(column.strip().upper(), []).append(position)
    doubled = [c for c in columns if len(positions.get(c, [])) > 1]
    if doubled:
        raise ExtractError(
            f"{name}: column(s) {', '.join(doubled)} occur more than once in the header "
            "(ignoring case and spaces)"
        )
    missing = [c for c in columns if c not in positions]
    if missing:
        raise ExtractError(
            f"{name}: missing column(s) {', '.join(missing)}; found "
            + mask_numbers(", ".join(header_names))
        )
    frame = frame.select(
        [pl.col(frame.columns[positions[c][0]]).fill_null("").alias(c) for c in columns]
    )
    return frame, encoding


def _check_fields(text: str, name: str) -> list[str]:
    """The header's column names; every data row must be one line (`csvtext`) and have as many
    fields as the header (a short row would otherwise read as missing values at its end)."""
    header = next(csv.reader(io.StringIO(text), delimiter=";"), [])
    found = []
    try:
        found = list(csvtext.records(io.StringIO(text), ";"))
    except csv.Error as error:  # e.g. a carriage return inside an unquoted field
        raise ExtractError(f"{name}: cannot be read as a ';'-separated CSV {error}") from None
    broken = csvtext.spanning(header, found)
    if broken:
        raise ExtractError(f"{name}: {csvtext.spanning_message(broken)}")
    ragged = [r.row for r in found if r.fields and len(r.fields) != len(header)]
    if ragged:
        raise ExtractError(
            f"{name}: {len(ragged)} row(s) do not have the {len(header)} ';'-separated fields "
            f"of the header: {example_rows(ragged)}"
        )
    return header


def _delimiter(header: str) -> str:
    """What the header line looks like instead, without quoting it (it may be a person's row)."""
    counts = {repr(d): header.count(d) for d in (",", "\t", "|", " ")}
    found, times = max(counts.items(), key=lambda item: item[1])
    if not times:
        return f"found one field of {len(header)} characters"
    return f"found {times + 1} fields separated by {found}"


def parse_dates(column: pl.Expr) -> pl.Expr:
    """dd-mm-yyyy, d-m-yyyy and yyyy-mm-dd, mixed within one column."""
    return pl.coalesce([column.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS])


def clean_extract(data: bytes, name: str, spec: dict) -> Cleaned:
    """The cleaned extract with `_row` (data-row number in the file) and the cleaning report."""
    frame, encoding = read_extract(data, name, spec["columns"])
    rows = frame.height
    columns = spec["columns"]
    frame = frame.with_row_index(ROW, offset=1).unique(
        subset=columns, keep="first", maintain_order=True
    )
    duplicates = rows - frame.height
    raw = set(spec.get("keep_raw", []))
    trimmed = frame.with_columns([pl.col(c).str.strip_chars() for c in columns if c not in raw])
    is_missing = {
        c: trimmed[c].str.strip_chars().str.to_lowercase().is_in(list(MISSING_TOKENS))
        for c in columns
    }
    cleaned = trimmed.with_columns(
        [
            pl.when(pl.Series(is_missing[c])).then(None).otherwise(pl.col(c)).alias(c)
            for c in columns
        ]
    )
    cleaned, neutralised = neutralise_formulas(cleaned, [c for c in columns if c in FREE_TEXT])
    cleaned = cleaned.with_columns([parse_dates(pl.col(c)).alias(c) for c in spec["dates"]])
    problems = []
    for column in spec["dates"]:
        unparsed = cleaned[column].is_null() & ~pl.Series(is_missing[column])
        if unparsed.any():
            bad_rows = cleaned.filter(unparsed)[ROW].to_list()
            problems.append(
                f"column {column}: {len(bad_rows)} value(s) not a date in any accepted format "
                f"({', '.join(DATE_FORMATS)}, a real calendar day): {example_rows(bad_rows)}"
            )
    if problems:
        raise ExtractError(
            f"{name}: dates that cannot be read; row numbers count the data rows of the file "
            "from 1 (the header is not counted):\n  " + "\n  ".join(problems)
        )
    cleaned = cleaned.with_columns(
        (pl.col("RINPERSOONS").is_not_null() & pl.col("RINPERSOON").is_not_null()).alias("linked")
    )
    report = pl.DataFrame(
        {
            "extract": name,
            "measure": [
                "encoding",
                "rows_read",
                "exact_duplicates_dropped",
                "rows_kept",
                "unlinked_rows",
                "formula_like_values_neutralised",
                *[f"missing_{c}" for c in spec["columns"]],
            ],
            "value": [
                encoding,
                str(rows),
                str(duplicates),
                str(cleaned.height),
                str(int((~cleaned["linked"]).sum())),
                str(neutralised),
                *[str(int(cleaned[c].is_null().sum())) for c in spec["columns"]],
            ],
        }
    )
    return Cleaned(cleaned, report)


FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, int]:
    """Free text that a spreadsheet would run as a formula (=, +, -, @, a tab or a carriage
    return first) gets a leading apostrophe, so that no CSV the workflow writes from it (the
    harmonisation's spellings, any table) can start a formula (OWASP CSV injection). Returns the
    frame and the number of values changed."""
    if not columns:
        return frame, 0
    starts = {c: pl.col(c).str.contains(FORMULA_START).fill_null(False) for c in columns}
    changed = frame.select(pl.sum_horizontal(list(starts.values())).sum()).item() or 0
    return frame.with_columns(
        pl.when(starts[c]).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in columns
    ), int(changed)


def normalise_departments(frame: pl.DataFrame, spellings: dict[str, list[str]]) -> pl.DataFrame:
    """AFDELING free text -> department code, via config spellings compared without case,
    spaces or punctuation; anything else 'other', missing stays null."""
    lookup = {
        _squash(s): department for department, variants in spellings.items() for s in variants
    }
    key = pl.col("AFDELING").str.to_lowercase().str.replace_all(r"[^a-z]", "")
    return frame.with_columns(
        pl.when(pl.col("AFDELING").is_null())
        .then(None)
        .otherwise(key.replace_strict(lookup, default="other"))
        .alias("department")
    )


def normalise_locations(frame: pl.DataFrame) -> pl.DataFrame:
    """LOCATIE spelled with stray spaces and mixed case -> one spelling per location."""
    return frame.with_columns(
        pl.col("LOCATIE")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_titlecase()
        .alias("location")
    )


def normalise_caseworkers(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """WERKCONSULENT -> `caseworker`: a code without spaces, in capitals, so that 'ab12', 'AB 12'
    and 'AB12' are one caseworker (systems and exports differ in case and padding; two
    caseworkers never differ in case alone). Returns the frame and the rows whose code changed."""
    code = pl.col("WERKCONSULENT").str.replace_all(r"\s+", "").str.to_uppercase()
    changed = frame.select((code != pl.col("WERKCONSULENT")).sum()).item() or 0
    return frame.with_columns(code.alias("caseworker")), int(changed)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())
