"""Clean the municipal extracts: encoding, missing tokens, trimming, duplicates, dates, departments.

Each extract is read as text with its encoding detected, every value kept as a string, then:
exact duplicate rows are dropped (counted), values trimmed, the missing-value tokens mapped to
null, the date columns parsed from their mixed formats, and rows whose person CBS could not link
(empty RINPERSOONS or RINPERSOON) flagged `linked = false`: kept and counted, never analysed.
"""

import codecs
from dataclasses import dataclass

import polars as pl
from charset_normalizer import from_bytes

MISSING_TOKENS = ("", "null", "-", "onbekend")
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


class ExtractError(ValueError):
    """A municipal extract that cannot be cleaned; the message names file, column and rows."""


@dataclass
class Cleaned:
    frame: pl.DataFrame
    report: pl.DataFrame


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and encoding: a UTF-8 BOM, valid UTF-8, else the best guess (Windows-1252 expected)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if guess is None:
        raise ExtractError(f"{name}: cannot detect the text encoding")
    return str(guess), guess.encoding


def read_extract(data: bytes, name: str, columns: list[str]) -> tuple[pl.DataFrame, str]:
    """The extract as all-string columns with the contract's names (matched case-insensitively)."""
    text, encoding = decode(data, name)
    if not text.strip():
        raise ExtractError(f"{name}: the file is empty")
    header = text.splitlines()[0]
    if ";" not in header:
        raise ExtractError(
            f"{name}: expected ';' as delimiter in the header line, found {header[:80]!r}"
        )
    frame = pl.read_csv(text.encode("utf-8"), separator=";", infer_schema=False)
    by_upper = {c.strip().upper(): c for c in frame.columns}
    missing = [c for c in columns if c not in by_upper]
    if missing:
        raise ExtractError(
            f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}"
        )
    frame = frame.select([pl.col(by_upper[c]).fill_null("").alias(c) for c in columns])
    return frame, encoding


def parse_dates(column: pl.Expr) -> pl.Expr:
    """dd-mm-yyyy, d-m-yyyy and yyyy-mm-dd, mixed within one column."""
    return pl.coalesce([column.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS])


def clean_extract(data: bytes, name: str, spec: dict) -> Cleaned:
    frame, encoding = read_extract(data, name, spec["columns"])
    rows = frame.height
    frame = frame.unique(maintain_order=True)
    duplicates = rows - frame.height
    raw = set(spec.get("keep_raw", []))
    trimmed = frame.with_columns(
        [pl.col(c).str.strip_chars() for c in frame.columns if c not in raw]
    )
    is_missing = {
        c: trimmed[c].str.strip_chars().str.to_lowercase().is_in(list(MISSING_TOKENS))
        for c in trimmed.columns
    }
    cleaned = trimmed.with_columns(
        [
            pl.when(pl.Series(is_missing[c])).then(None).otherwise(pl.col(c)).alias(c)
            for c in trimmed.columns
        ]
    )
    cleaned = cleaned.with_columns([parse_dates(pl.col(c)).alias(c) for c in spec["dates"]])
    unparsed = {
        c: int((cleaned[c].is_null() & ~pl.Series(is_missing[c])).sum()) for c in spec["dates"]
    }
    bad = {c: n for c, n in unparsed.items() if n}
    if bad:
        column, count = next(iter(bad.items()))
        rows_bad = (
            frame.with_row_index("row")
            .filter(cleaned[column].is_null() & ~pl.Series(is_missing[column]))["row"]
            .head(5)
            .to_list()
        )
        raise ExtractError(
            f"{name}: column {column} has {count} value(s) that are not a date in any accepted "
            f"format ({', '.join(DATE_FORMATS)}); first data rows (1-based, after the header): "
            f"{', '.join(str(r + 1) for r in rows_bad)}"
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
                *[f"missing_{c}" for c in spec["columns"]],
            ],
            "value": [
                encoding,
                str(rows),
                str(duplicates),
                str(cleaned.height),
                str(int((~cleaned["linked"]).sum())),
                *[str(int(cleaned[c].is_null().sum())) for c in spec["columns"]],
            ],
        }
    )
    return Cleaned(cleaned, report)


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


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())
