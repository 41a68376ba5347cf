"""Read CBS microdata files as the input contract describes them (/work/shared/contract/README.md).

Two steps, both plain functions:

1. Choosing files. CBS names a file `<STEM><YEAR>TABV<n>` or `<STEM><YEAR>BUSV<n>` (sometimes with a
   two-digit variant, `VSLGWB2018TAB03V1`), spell files also `<STEM>BUS<YEAR>V<n>` (`SECMBUS2018V1`);
   a `VRL` prefix marks a provisional file. `choose_files` takes the highest final version of each
   wanted stem and year unless the config pins a file.
2. Converting. `convert_to_parquet` reads only the study's columns (names matched
   case-insensitively, written in upper case) from `.sav`, `.csv` or `.parquet`, keeps every value a
   string exactly as delivered (leading zeros, leading spaces, the unknown codes `-`, `----`) and
   writes zstd Parquet with bounded memory. `.sav` files are read by polars-readstat (compiled;
   national SECMBUS, 104 million spells, in about 25 s), except where `pyreadstat_reasons` finds
   that it would read a column differently: user-missing values declared on a column the study
   reads (polars-readstat makes them null, or holds the whole file in memory to keep them), a
   DATETIME/TIME/DTIME format, a header without a row count, an encoding it does not decode as
   pyreadstat does. Such a file is read by pyreadstat, several times slower; config
   `cbs.sav_reader: pyreadstat` sends every file there. On everything else the two give the same
   Parquet (tests/test_ingest.py), with one known exception: a byte that is not valid UTF-8 in a
   UTF-8 file (a damaged file) makes pyreadstat stop with an error, while polars-readstat cuts
   that string short without one (validation refuses a RINPERSOON that is short in a column the
   file stores as text, `text_columns`: it was cut, and padding it would make another person's
   key).

Strings stay strings: an empty SPSS or CSV string becomes "", never null. SPSS user-missing values
(CBS may declare `----` missing) are kept as the codes they are. Only a missing numeric value is null;
whole numbers are written without a trailing ".0", SPSS/Parquet dates as YYYYMMDD.

Every problem with the files raises `InputError` (a `wwvw.core.errors.DeliveryError`), whose message names
the file and what is wrong but never a value from a row. What the values must look like is checked
after conversion (`wwvw.ingest.validation`).
"""

from __future__ import annotations

import codecs
import csv
import logging
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
from polars_readstat import scan_readstat

from wwvw.core import csvtext, db
from wwvw.core.errors import DeliveryError, example_rows, mask_numbers
from wwvw.core.logs import Progress

log = logging.getLogger("wwvw.ingest.cbs")

LATEST = "latest"
FORMATS = ("sav", "csv", "parquet")
# auto: polars-readstat, or pyreadstat where `pyreadstat_reasons` finds a reason; pyreadstat:
# every .sav file with pyreadstat (config cbs.sav_reader)
SAV_READERS = ("auto", "pyreadstat")
PARQUET_COMPRESSION = "zstd"

_EXTENSION = r"\.(?P<extension>sav|csv|parquet)"
_VERSION = r"(?P<extra>\d{2})?V(?P<version>\d+)"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_STEM = r"(?P<vrl>VRL)?(?P<stem>[A-Z][A-Z0-9_]*?)"
_NAME_FORMS = (
    # GBAPERSOON2018TABV2.sav, VSLGWB2018TAB03V1.sav, VRLHOOGSTEOPL2016TABV4.sav
    re.compile(rf"^{_STEM}{_YEAR}(?P<kind>TAB|BUS){_VERSION}{_EXTENSION}$", re.IGNORECASE),
    # SECMBUS2018V1.sav (spell files named kind-first)
    re.compile(rf"^{_STEM}(?P<kind>TAB|BUS){_YEAR}{_VERSION}{_EXTENSION}$", re.IGNORECASE),
)
_INDEX_COLUMN = re.compile(r"^\s*$|^Unnamed: \d+$|^__index_level_\d+__$")
_LONG_NUMBER = re.compile(r"\d{6,}")
_READ_ERRORS = (
    pyreadstat.ReadstatError,
    pyreadstat.PyreadstatError,
    pl.exceptions.PolarsError,
    RuntimeError,  # polars-readstat's IO and format errors
    pa.ArrowException,
    OSError,
    UnicodeError,
    ValueError,
)


class InputError(DeliveryError):
    """A CBS input is missing, ambiguous or unreadable; the message says which file and why."""


@dataclass(frozen=True)
class CbsName:
    """What a CBS file name says: stem, kind (TAB/BUS), year, version, VRL flag and format."""

    filename: str
    stem: str
    kind: str
    year: int
    version: int
    provisional: bool
    extension: str
    extra: str = ""


@dataclass(frozen=True)
class Wanted:
    """One input the pipeline needs: `key` names it, `stem` as parsed (`GBAPERSOON`, `SECM`),
    `year` a year or "latest"."""

    key: str
    stem: str
    year: int | str = LATEST


# --- file names -------------------------------------------------------------------------------


def parse_cbs_name(filename: str) -> CbsName | None:
    """Parse a CBS file name (case-insensitive); None if it follows none of the contract's forms."""
    for form in _NAME_FORMS:
        match = form.match(Path(filename).name)
        if match:
            return CbsName(
                filename=filename,
                stem=match["stem"].upper(),
                kind=match["kind"].upper(),
                year=int(match["year"]),
                version=int(match["version"]),
                provisional=match["vrl"] is not None,
                extension=match["extension"].lower(),
                extra=match["extra"] or "",
            )
    return None


def parse_names(names: Iterable[str]) -> list[CbsName]:
    """Parse every name; names that do not parse are reported in the log and left out."""
    parsed = []
    for name in sorted(names):
        cbs_name = parse_cbs_name(name)
        if cbs_name is None:  # its name is not quoted: a name chosen by hand may name a person
            log.warning("a file in cbs/ whose name is not a CBS file name was ignored")
        else:
            parsed.append(cbs_name)
    return parsed


# --- choosing versions ------------------------------------------------------------------------


MISSING_YEARS = ("earlier", "strict")


def choose_files(
    names: list[str], wanted: list[Wanted], pins: dict[str, str], missing_years: str = "strict"
) -> dict[str, str]:
    """Pick one file name per wanted input: the pinned file, else the highest final version.

    `pins` maps stem and year (`GBAPERSOON2018`, any case) to a file name, which may be a VRL file.
    Raises InputError when a required stem and year is missing, when two files claim the chosen
    version, or when a pin names a file that is not there. With `missing_years` "earlier" (the
    workflow's default, config cbs.missing_years; this function's is "strict") a
    register year of which no file at all was delivered (deliveries lag a year) is stood in for
    by the nearest earlier year's file, with a warning; "strict" stops instead. A year with only
    a provisional VRL file still stops: pin the VRL file, or remove it.
    """
    if missing_years not in MISSING_YEARS:
        raise ValueError(f"missing_years must be one of {MISSING_YEARS}, not {missing_years!r}")
    parsed = parse_names(names)
    upper_pins = {key.upper(): filename for key, filename in pins.items()}
    chosen = {item.key: choose_file(parsed, item, upper_pins, missing_years) for item in wanted}
    _report_unused_pins(chosen, upper_pins)
    return chosen


def choose_file(
    parsed: list[CbsName], wanted: Wanted, pins: dict[str, str], missing_years: str = "strict"
) -> str:
    """The file for one wanted input (pins keyed by upper-case stem and year)."""
    stem = wanted.stem.upper()
    same_stem = [name for name in parsed if name.stem == stem]
    year = _requested_year(wanted, same_stem, pins)
    pin = pins.get(f"{stem}{year}")
    if pin is not None:
        return _pinned_file(pin, f"{stem}{year}", same_stem, parsed)
    delivered = {name.year for name in same_stem}
    earlier = [name.year for name in same_stem if name.year < year and not name.provisional]
    if missing_years == "earlier" and year not in delivered and earlier:
        stand_in = max(earlier)
        log.warning(
            "%s%d: no file delivered; the %d file stands in for it (config cbs.missing_years)",
            stem,
            year,
            stand_in,
        )
        return _highest_final_version(stem, stand_in, same_stem)
    return _highest_final_version(stem, year, same_stem)


def _requested_year(wanted: Wanted, same_stem: list[CbsName], pins: dict[str, str]) -> int:
    """The wanted year; for "latest" the highest year with a final file or a pin."""
    if str(wanted.year).lower() != LATEST:
        return int(wanted.year)
    stem = wanted.stem.upper()
    years = {name.year for name in same_stem if not name.provisional}
    years |= {
        int(key[len(stem) :]) for key in pins if re.fullmatch(rf"{re.escape(stem)}\d{{4}}", key)
    }
    if not years:
        raise InputError(f"{stem} (latest year): no file found{_found(same_stem, stem)}")
    return max(years)


def _highest_final_version(stem: str, year: int, same_stem: list[CbsName]) -> str:
    """The single final (non-VRL) file of the highest version for a stem and year."""
    of_year = [name for name in same_stem if name.year == year]
    finals = [name for name in of_year if not name.provisional]
    if not finals:
        raise InputError(f"{stem}{year}: no file found{_found(same_stem, stem, year)}")
    top = max(name.version for name in finals)
    at_top = [name for name in finals if name.version == top]
    if len(at_top) > 1:
        claimants = ", ".join(name.filename for name in at_top)
        raise InputError(
            f"{stem}{year}: version V{top} is ambiguous, {len(at_top)} files claim it: {claimants}. "
            f"Remove all but one, or pin one in config cbs.pins ({stem}{year}: <file name>)"
        )
    return at_top[0].filename


def _pinned_file(pin: str, pin_key: str, same_stem: list[CbsName], parsed: list[CbsName]) -> str:
    """The file a pin names, checked to exist and to be of the pinned stem and year."""
    matches = [name for name in parsed if name.filename == pin]
    if not matches:
        matches = [name for name in parsed if name.filename.upper() == pin.upper()]
    if len(matches) != 1:
        problem = "matches several files (case)" if matches else "is not there (as a CBS file)"
        found = ", ".join(name.filename for name in same_stem) or "none"
        raise InputError(f"pin {pin_key}: {pin} {problem}; files found for this stem: {found}")
    name = matches[0]
    if f"{name.stem}{name.year}" != pin_key:
        raise InputError(f"pin {pin_key}: {pin} is a file of {name.stem}{name.year}")
    return name.filename


def _found(same_stem: list[CbsName], stem: str, year: int | None = None) -> str:
    """The tail of a 'no file' message: what was found for the stem, and any VRL-only year."""
    if not same_stem:
        return f"; there is no file of stem {stem} at all"
    listing = ", ".join(name.filename for name in same_stem)
    provisional = [n for n in same_stem if n.provisional and year in (None, n.year)]
    hint = ""
    if provisional and all(n.provisional for n in same_stem if year in (None, n.year)):
        which = ", ".join(n.filename for n in provisional)
        hint = f" (only provisional VRL: {which}; ignored unless pinned in config cbs.pins)"
    return f"; files found for {stem}: {listing}{hint}"


def _report_unused_pins(chosen: dict[str, str], pins: dict[str, str]) -> None:
    """Log pins that chose nothing (a typo in a pin would otherwise go unnoticed)."""
    used = {filename.upper() for filename in chosen.values()}
    for key, filename in pins.items():
        if filename.upper() not in used:
            log.warning("pin %s: %s was not used by any wanted input", key, filename)


# --- converting -------------------------------------------------------------------------------


def convert_to_parquet(
    path: str | os.PathLike,
    out_path: str | os.PathLike,
    columns: list[str],
    chunk_rows: int = 1_000_000,
    sav_reader: str = "auto",
) -> int:
    """Write the requested columns of a CBS file to Parquet as strings; return the row count.

    Output columns are named as requested, in upper case. Memory stays bounded: SPSS files are read
    `chunk_rows` rows at a time, CSV and Parquet are streamed by polars. The output is written to a
    temporary file next to `out_path` and renamed at the end, so a failure leaves nothing behind.
    `sav_reader` is one of SAV_READERS.
    """
    path, out_path = Path(path), Path(out_path)
    wanted = _output_names(columns)
    if sav_reader not in SAV_READERS:
        raise ValueError(f"sav_reader must be one of {SAV_READERS}, not {sav_reader!r}")
    convert = _CONVERTERS.get(path.suffix.lower())
    if convert is None:
        raise InputError(f"{path}: unsupported format (expected one of {', '.join(FORMATS)})")
    if convert is _convert_sav:
        convert = partial(_convert_sav, reader=sav_reader)
    _check_readable(path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_next_to(out_path) as temporary:
        rows = convert(path, temporary, wanted, chunk_rows)
        if rows == 0:
            raise InputError(f"{path}: the file has no rows")
        os.replace(temporary, out_path)
    return rows


def _output_names(columns: list[str]) -> list[str]:
    """The requested columns in upper case; asking for one twice is a programming error."""
    upper = [column.upper() for column in columns]
    if not upper or len(set(upper)) != len(upper):
        raise ValueError(f"columns must be non-empty and distinct (ignoring case): {columns}")
    return upper


def _check_readable(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")


def file_columns(path: str | os.PathLike) -> list[str]:
    """Every column name of a CBS file as delivered (used or not), for the privacy guard."""
    path = Path(path)
    _check_readable(path)
    extension = path.suffix.lower()
    if extension == ".sav":
        with _reading(path, "SPSS .sav"):
            return _sav_metadata(path).column_names
    if extension == ".csv":
        with _reading(path, "CSV"):
            return (
                pl.scan_csv(path, separator=sniff_separator(path), infer_schema=False, n_rows=0)
                .collect_schema()
                .names()
            )
    if extension == ".parquet":
        with _reading(path, "Parquet"):
            return pq.read_schema(path).names
    raise InputError(f"{path}: unsupported format (expected one of {', '.join(FORMATS)})")


@contextmanager
def temporary_next_to(out_path: Path) -> Iterator[Path]:
    """A fresh temporary path in the target's folder, removed unless it has been renamed.

    The writer creates the file itself, so it gets the usual permissions (umask), as other outputs.
    """
    temporary = out_path.with_name(f".{out_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn a reader's exception into an InputError naming the file (no row values in it)."""
    try:
        yield
    except InputError:
        raise
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: cannot read as {what}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    """The first line of an exception message, long digit runs (identifiers) masked."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(exc).__name__}: {_LONG_NUMBER.sub('<number>', first)[:300]}"


def text_columns(path: str | os.PathLike, columns: list[str]) -> list[str]:
    """The requested columns (as named in the output) that a .sav file stores as SPSS strings;
    none for CSV and Parquet, whose types say nothing about how CBS wrote a value. Validation
    reads a short zero-padded key in such a column as cut, not as stripped of its zeros."""
    path = Path(path)
    if path.suffix.lower() != ".sav":
        return []
    with _reading(path, "SPSS .sav"):
        meta = _sav_metadata(path)
    source = match_columns(meta.column_names, _output_names(columns), path)
    kinds = meta.readstat_variable_types
    return [out for out, spelling in source.items() if kinds.get(spelling) == "string"]


def match_columns(available: list[str], requested: list[str], path: Path) -> dict[str, str]:
    """Map each requested upper-case name to the file's own spelling of it (case-insensitive)."""
    data_columns = [name for name in available if not _INDEX_COLUMN.match(name)]
    spellings: dict[str, list[str]] = {}
    for name in data_columns:
        spellings.setdefault(name.upper(), []).append(name)
    missing = [column for column in requested if column not in spellings]
    if missing:
        raise InputError(
            f"{path}: column(s) {', '.join(missing)} not found; "
            f"the file has: {mask_numbers(', '.join(data_columns))}"
        )
    doubled = [column for column in requested if len(spellings[column]) > 1]
    if doubled:
        raise InputError(
            f"{path}: column(s) {', '.join(doubled)} occur more than once when case is ignored: "
            + "; ".join(", ".join(spellings[column]) for column in doubled)
        )
    return {column: spellings[column][0] for column in requested}


def as_text(column: str, dtype: pl.DataType) -> pl.Expr:
    """A polars expression writing one column as strings (whole numbers without ".0")."""
    value = pl.col(column)
    if dtype == pl.String:
        return value
    if dtype.is_float():
        whole = value.is_finite() & (value.floor() == value) & (value.abs() < 2**53)
        return (
            pl.when(whole)
            .then(value.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(value.cast(pl.String))
        )
    if dtype == pl.Date:
        return value.dt.strftime("%Y%m%d")
    if isinstance(dtype, pl.Datetime):  # microseconds, as pyreadstat gives them
        return value.dt.cast_time_unit("us").cast(pl.String)
    return value.cast(pl.String)


def _text_columns(schema: pl.Schema, source: dict[str, str]) -> list[pl.Expr]:
    """Select and rename the requested columns, each as strings."""
    return [as_text(spelling, schema[spelling]).alias(out) for out, spelling in source.items()]


def _convert_sav(
    path: Path, out: Path, columns: list[str], chunk_rows: int, reader: str = "auto"
) -> int:
    """SPSS: read `chunk_rows` rows at a time, append one row group per chunk; `reader` as
    `convert_to_parquet`'s `sav_reader`."""
    schema = pa.schema([(column, pa.large_string()) for column in columns])
    rows = 0
    with _reading(path, "SPSS .sav"):
        meta = _sav_metadata(path)
        source = match_columns(meta.column_names, columns, path)
        usecols = list(source.values())
        reasons = pyreadstat_reasons(meta, usecols, reader)
        read_chunks = _sav_chunks_pyreadstat if reasons else sav_chunks_polars_readstat
        why = f" ({'; '.join(reasons)})" if reasons else ""
        log.info(
            "%s: reading with %s%s", path.name, "pyreadstat" if reasons else "polars-readstat", why
        )
        progress = Progress(log, f"{path.name} converted", meta.number_rows)
        with pq.ParquetWriter(out, schema, compression=PARQUET_COMPRESSION) as writer:
            for chunk in read_chunks(path, usecols, chunk_rows):
                text = chunk.select(_text_columns(chunk.schema, source))
                writer.write_table(text.to_arrow().cast(schema))
                rows += text.height
                progress.update(text.height)
    _check_row_count(path, rows, meta.number_rows)
    return rows


def _sav_metadata(path: Path) -> pyreadstat.metadata_container:
    """The .sav header (names, row count, user-missing declarations); a nameless column means a
    damaged header."""
    _, meta = pyreadstat.read_sav(path, metadataonly=True, user_missing=True)
    if any(not isinstance(name, str) for name in meta.column_names):
        raise InputError(f"{path}: the header has a column without a name (damaged file?)")
    return meta


def declares_user_missing(missing_ranges: dict[str, list], usecols: list[str]) -> list[str]:
    """The columns among `usecols` for which the .sav header declares user-missing values."""
    return [column for column in usecols if missing_ranges.get(column)]


# SPSS formats that polars-readstat reads differently from pyreadstat: it drops the fraction of
# a second of DATETIME/YMDHMS values and returns DTIME as a duration
_TIME_FORMATS = re.compile(r"^(DATETIME|YMDHMS|DTIME|MTIME|TIME)", re.IGNORECASE)
# file encodings polars-readstat decodes as pyreadstat does (checked: not IBM850, for one)
_FAST_ENCODINGS = {"utf8", "windows1252", "cp1252", "iso88591", "latin1", "iso885915"}


def pyreadstat_reasons(meta, usecols: list[str], reader: str = "auto") -> list[str]:
    """Why a .sav file must be read with pyreadstat rather than polars-readstat (none: it need
    not). `meta` is pyreadstat's header metadata, `usecols` the file's names of the columns
    read, `reader` the config's cbs.sav_reader."""
    reasons = []
    if reader == "pyreadstat":
        reasons.append("config cbs.sav_reader")
    declared = declares_user_missing(meta.missing_ranges, usecols)
    if declared:
        reasons.append(f"user-missing values declared on {', '.join(declared)}")
    formats = meta.original_variable_types
    timed = [column for column in usecols if _TIME_FORMATS.match(formats.get(column) or "")]
    if timed:
        reasons.append(f"time or date-time format on {', '.join(timed)}")
    if meta.number_rows is None or meta.number_rows < 0:
        reasons.append("the header does not state the number of rows")
    encoding = re.sub(r"[^a-z0-9]", "", (meta.file_encoding or "").lower())
    if encoding not in _FAST_ENCODINGS:
        reasons.append(f"file encoding {meta.file_encoding or 'not stated'}")
    return reasons


def sav_chunks_polars_readstat(
    path: Path, usecols: list[str] | None, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """The selected columns (None: all) of a .sav file in polars chunks, in file order, read by
    polars-readstat on one thread (compiled, about 10x faster than pyreadstat on the CBS key
    tables, memory bounded by the chunk size; the benchmark's conversion floor reads with it too).
    Used only where `pyreadstat_reasons` finds none: it turns user-missing values into nulls,
    drops fractions of seconds and returns DTIME as a duration. It also cuts a UTF-8 string at an
    invalid byte where pyreadstat stops with an error (see the module docstring)."""
    frame = scan_readstat(path, preserve_order=True, threads=1, batch_size=chunk_rows)
    if usecols is not None:
        frame = frame.select(usecols)
    yield from frame.collect_batches(chunk_size=chunk_rows)


def _sav_chunks_pyreadstat(
    path: Path, usecols: list[str], chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """The selected columns of a .sav file in polars chunks read by pyreadstat, user-missing codes
    kept as values (polars-readstat can keep them too, but then holds the whole file in memory)."""
    chunks = pyreadstat.read_file_in_chunks(
        pyreadstat.read_sav,
        path,
        chunksize=chunk_rows,
        usecols=usecols,
        user_missing=True,
        output_format="polars",
    )
    for chunk, _ in chunks:
        yield chunk


def _check_row_count(path: Path, rows: int, expected: int | None) -> None:
    """A .sav header states its row count (if known): fewer rows read means a truncated file."""
    if expected is not None and expected >= 0 and rows != expected:
        raise InputError(
            f"{path}: read {rows} rows but the SPSS header announces {expected} (truncated file?)"
        )


def sniff_separator(path: Path) -> str:
    """';' or ',' , whichever occurs more often in the header line (UTF-8, with or without BOM).

    A header with neither, or a file in UTF-16, is an InputError: the contract allows only these.
    """
    with path.open("rb") as handle:
        raw = handle.readline()
    kind = csvtext.binary_kind(raw)
    if kind:
        raise InputError(
            f"{path}: the file is {kind} by its first bytes, not a CSV text file: deliver it "
            "under its own extension, or export it as a ';'-separated CSV"
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise InputError(
            f"{path}: the file looks like UTF-16 (or another two-byte encoding); save the CSV "
            "copy as UTF-8"
        )
    header = raw.decode("utf-8-sig", errors="replace")
    if ";" not in header and "," not in header:
        tab = " (it has tabs: tab-separated?)" if "\t" in header else ""
        raise InputError(
            f"{path}: the header line has no ',' or ';'{tab}; a CSV copy must be separated by "
            "',' or ';'"
        )
    return ";" if header.count(";") > header.count(",") else ","


CSV_REJECTS_KEPT = 1000  # bad CSV rows recorded per file (a wholly broken file has millions)


def check_csv_rows(path: Path, separator: str) -> None:
    """Every data row of a CSV copy has the header's number of fields.

    polars reads only the columns asked for, so a row with a field too many would shift the rest
    of that row into other columns unnoticed (a RINPERSOON cut in two becomes another person's
    key), and a row with fields too few would read as empty values. DuckDB's CSV reader collects
    such rows (by line, not by content) in one parallel pass."""
    con = db.connect()
    try:
        ((rows,),) = con.execute(
            "SELECT count(*) FROM read_csv(?, delim = ?, quote = '\"', escape = '\"', "
            "header = true, all_varchar = true, null_padding = false, strict_mode = true, "
            "store_rejects = true, rejects_table = 'rejected', rejects_scan = 'rejected_scans', "
            f"rejects_limit = {CSV_REJECTS_KEPT})",
            [str(path), separator],
        ).fetchall()
        rejected = con.execute(
            "SELECT error_type::VARCHAR, list(DISTINCT line - 1 ORDER BY line - 1) "
            "FROM rejected GROUP BY 1 ORDER BY 1"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as CSV: {_describe(exc)}") from None
    finally:
        con.close()
    if rejected:
        problems = "; ".join(
            f"{what.lower()}: {len(rows)} row(s), {example_rows(rows)}" for what, rows in rejected
        )
        kept = sum(len(rows) for _, rows in rejected)
        more = f" (the first {kept} found; there may be more)" if kept >= CSV_REJECTS_KEPT else ""
        raise InputError(
            f"{path}: rows that do not have the header's fields ('{separator}'-separated), "
            f"{problems}{more}; ask for a new copy of the file"
        )
    if rows < _line_breaks(path) - 1:  # fewer records than lines: a field holds a line break
        _check_single_line_rows(path, separator)


def _line_breaks(path: Path, chunk: int = 1 << 24) -> int:
    """Lines of a text file (a last line without a line break counts)."""
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _check_single_line_rows(path: Path, separator: str) -> None:
    """Every record on one line (`csvtext`); only read when the counts say one is not."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader(handle, delimiter=separator), [])
        handle.seek(0)
        broken = csvtext.spanning(header, csvtext.records(handle, separator))
    if broken:
        raise InputError(f"{path}: {csvtext.spanning_message(broken)}")


def _convert_csv(path: Path, out: Path, columns: list[str], chunk_rows: int) -> int:
    """CSV: stream with polars, every column a string, empty fields as "" (as in SPSS), after
    `check_csv_rows`."""
    separator = sniff_separator(path)
    check_csv_rows(path, separator)
    with _reading(path, "CSV"):
        frame = pl.scan_csv(path, separator=separator, infer_schema=False)
        source = match_columns(frame.collect_schema().names(), columns, path)
        selected = [pl.col(spelling).fill_null("").alias(out) for out, spelling in source.items()]
        frame.select(selected).sink_parquet(
            out, compression=PARQUET_COMPRESSION, row_group_size=chunk_rows
        )
        return pq.ParquetFile(out).metadata.num_rows


def _convert_parquet(path: Path, out: Path, columns: list[str], chunk_rows: int) -> int:
    """Parquet: stream with polars, each requested column cast to strings."""
    with _reading(path, "Parquet"):
        frame = pl.scan_parquet(path)
        schema = frame.collect_schema()
        source = match_columns(schema.names(), columns, path)
        frame.select(_text_columns(schema, source)).sink_parquet(
            out, compression=PARQUET_COMPRESSION, row_group_size=chunk_rows
        )
        return pq.ParquetFile(out).metadata.num_rows


_CONVERTERS = {".sav": _convert_sav, ".csv": _convert_csv, ".parquet": _convert_parquet}
