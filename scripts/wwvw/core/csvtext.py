"""Rows of a delimited text file read record by record, with the line each record starts on.

A quoted field may legally hold a line break in CSV, but no field of the input contract does: a
'"' that is not closed on its line makes the reader swallow the following lines (other persons'
rows) into one field. Both the municipal extracts and the CBS CSV copies are checked with
`records`, and a record that spans lines is an error naming its columns and data rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    row: int  # data-row number of the line the record starts on (the header is line 0)
    fields: list[str]
    lines: int  # physical lines the record takes


def records(lines: Iterable[str], delimiter: str) -> Iterator[Record]:
    """The data records after the header; csv.Error says the line where reading failed."""
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        next(reader, None)
        previous = reader.line_num
        for fields in reader:
            yield Record(previous, fields, reader.line_num - previous)
            previous = reader.line_num
    except csv.Error as error:
        raise csv.Error(f"at line {reader.line_num}: {error}") from None


def spanning(header: list[str], found: Iterable[Record]) -> dict[str, list[int]]:
    """Column name -> data rows whose field in that column holds a line break."""
    columns: dict[str, list[int]] = {}
    for record in found:
        if record.lines > 1:
            for position, value in enumerate(record.fields):
                if "\n" in value or "\r" in value:
                    name = header[position] if position < len(header) else f"field {position + 1}"
                    columns.setdefault(name.strip(), []).append(record.row)
    return columns


def spanning_message(broken: dict[str, list[int]]) -> str:
    """The problem of `spanning`'s result, column by column, with the data rows (no values)."""
    from wwvw.core.errors import example_rows

    return "; ".join(
        f"column {column}: {SPANNING_DETAIL}: {len(rows)} row(s), {example_rows(rows)}"
        for column, rows in broken.items()
    )


SPANNING_DETAIL = (
    "a quoted field runs over a line break (a '\"' not closed on its line?), which would "
    "merge the rows after it; every row must be one line"
)


# files that are not text, by their first bytes
BINARY_SIGNATURES = (
    (b"$FL2", "an SPSS .sav file"),
    (b"$FL3", "an SPSS .sav file (compressed)"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Office document (an Excel .xls workbook?)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"%PDF", "a PDF document"),
)


def binary_kind(head: bytes) -> str | None:
    """What a file that should be text is instead, from its first bytes (None: looks like text)."""
    for signature, kind in BINARY_SIGNATURES:
        if head.startswith(signature):
            return kind
    return None
