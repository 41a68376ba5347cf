"""Malformed deliveries: a corpus of cases, each made from one small base delivery by one change.

The base delivery is cut from the default synthetic snapshot: N_COHORT persons of the analysis
cohort, N_STUDY other persons of the study population and N_OTHER persons outside it, with every
row of theirs in every CBS file (same names, formats and writers as the generator) and every line
of theirs in the municipal extracts (bytes, encodings and mess kept), plus a few unlinked rows.

Each `Case` makes one change in a copy of the base and declares the expected outcome:
- PASS: the reader of the changed file (`rule`, `job`) succeeds, and the data stage runs to the
  tables. `expect_in_files` are regexes that must match files under results/<snapshot>/ (e.g. the
  repair counted in a validation report); with `same_as_base` the case's numbers equal the base
  delivery's (the repair changed nothing that is analysed).
- ERROR: Snakemake exits non-zero, its output matches `message`, and the failing rule (`rule`;
  "dag" when Snakemake stops while building the DAG) left none of the outputs of `job`.
Messages and expected files may use facts returned by the change: {rows} (the data-row numbers
it touched, as the message lists them) and {n} (how many rows a repair must count).

Build the corpus by hand to look at it:
    PYTHONPATH=scripts python tests/corpus/build.py SYNTHETIC_DIR OUT_DIR
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import polars as pl
import pyreadstat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from wwvw.core.errors import example_rows  # noqa: E402
from wwvw.ingest.cbs import parse_cbs_name  # noqa: E402
from wwvw.synthetic.layout import CBS_FILES, MUNICIPAL_FILES, TABLES  # noqa: E402
from wwvw.synthetic.writers import open_writer  # noqa: E402

PASS, ERROR = "pass", "error"
SEED = 20260901
N_COHORT, N_STUDY, N_OTHER, N_UNLINKED = 900, 900, 300, 30
DATA_STAGE = (
    "tables/table1.csv",
    "tables/table2.csv",
    "tables/interventions_by_department.csv",
    "cohort/flow.csv",
    "qc/linkage.csv",
    "qc/interventions.csv",
)
TABLES_COMPARED = ("tables/table1.csv", "tables/table2.csv", "cohort/flow.csv")
MUNICIPAL_RULE = "clean_municipal"
CBS_RULE = "ingest_cbs"


@dataclass(frozen=True)
class Case:
    name: str
    change: str
    make: Callable[[Delivery], dict]
    outcome: str
    rule: str | None = None
    job: str | None = None  # the failing job's wildcard: CBS table key or municipal extract
    message: str = ""
    expect_in_files: dict[str, str] = field(default_factory=dict)
    same_as_base: bool = False

    def reader_output(self) -> str | None:
        """The Parquet file the reader of the changed file writes (relative to the results)."""
        if self.rule == CBS_RULE:
            return f"raw/{self.job}.parquet"
        if self.rule == MUNICIPAL_RULE:
            return f"clean/{self.job}.parquet"
        return None

    def targets(self, snapshot: str) -> list[str]:
        """What to build: the reader's output (fast), or the tables when the DAG must fail."""
        reader = self.reader_output()
        if reader is not None:
            return [f"results/{snapshot}/{reader}"]
        return [f"results/{snapshot}/{t}" for t in DATA_STAGE]

    def failing_outputs(self, results: Path) -> list[Path]:
        """The outputs of the failing job, none of which may exist after the run."""
        if self.rule == CBS_RULE:
            return [
                results / "raw" / f"{self.job}.parquet",
                results / "qc" / f"validation_{self.job}.csv",
            ]
        if self.rule == MUNICIPAL_RULE:
            return [
                results / "clean" / f"{self.job}.parquet",
                results / "qc" / f"cleaning_{self.job}.csv",
                results / "qc" / f"validation_{self.job}.csv",
            ]
        return [results / "raw", results / "clean"]


def fill(pattern: str, facts: dict) -> str:
    """A case's regex with its facts ({rows}, {n}) put in literally."""
    for key, value in facts.items():
        pattern = pattern.replace("{" + key + "}", re.escape(str(value)))
    return pattern


# --- reading and writing deliveries -------------------------------------------------------------


def read_cbs(path: Path) -> pl.DataFrame:
    """A CBS file as string columns under its own column names (a CSV copy's index dropped)."""
    suffix = path.suffix.lower()
    if suffix == ".sav":
        frame, _ = pyreadstat.read_sav(path, output_format="polars", user_missing=True)
        return frame
    if suffix == ".csv":
        header = path.read_bytes().split(b"\n", 1)[0].decode("utf-8-sig")
        separator = ";" if header.count(";") >= header.count(",") else ","
        frame = pl.read_csv(path, separator=separator, infer_schema=False)
        return frame.select([c for c in frame.columns if c.strip()])
    return pl.read_parquet(path)


def _layout(name: str) -> dict:
    kind = CBS_FILES.get(name)
    if kind is None:
        parsed = parse_cbs_name(name)
        kind = f"{parsed.stem}{parsed.kind}" if parsed else ""
    return TABLES.get(kind, {"widths": {}, "labels": {}, "values": {}})


def write_cbs(path: Path, frame: pl.DataFrame, separator: str = ";") -> None:
    """Write a CBS file in the format of its extension, as the generator does (.sav with the
    layout's widths and labels, matched to the frame's column names without regard to case)."""
    path.unlink(missing_ok=True)
    frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    if path.suffix == ".csv":
        numbered = frame.with_row_index("index").with_columns(pl.col("index").cast(pl.String))
        text = numbered.write_csv(separator=separator)
        path.write_bytes(text.replace("index", "", 1).encode())
        return
    if path.suffix == ".parquet":
        frame.write_parquet(path)
        return
    spec = _layout(path.name)
    by_upper = {k.upper(): k for k in spec["widths"]}
    widths = {}
    for column in frame.columns:
        longest = int(frame[column].fill_null("").str.len_bytes().max() or 0)
        layout_width = spec["widths"].get(by_upper.get(column.upper(), ""), 0)
        widths[column] = max(longest, layout_width, 1)
    labels = {
        c: spec["labels"][by_upper[c.upper()]]
        for c in frame.columns
        if by_upper.get(c.upper()) in spec["labels"]
    }
    values = {
        c: spec["values"][by_upper[c.upper()]]
        for c in frame.columns
        if by_upper.get(c.upper()) in spec["values"]
    }
    writer = open_writer(
        path, widths, column_labels=labels, value_labels=values, file_label=path.stem
    )
    writer.write(frame)
    writer.close()


@dataclass
class Extract:
    """A municipal extract as delivered: header fields, data rows (fields as text), encoding."""

    header: list[str]
    rows: list[list[str]]
    encoding: str

    def column(self, name: str) -> int:
        return [h.strip().upper() for h in self.header].index(name)

    def linked(self) -> list[int]:
        """Indices of rows with a RINPERSOON."""
        key = self.column("RINPERSOON")
        return [i for i, row in enumerate(self.rows) if row[key].strip('"')]


class Delivery:
    """A delivery directory (cbs/, municipal/) that a case changes in place."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def cbs(self, name: str) -> Path:
        return self.root / "cbs" / name

    def municipal(self, name: str) -> Path:
        return self.root / "municipal" / name

    def read(self, name: str) -> pl.DataFrame:
        return read_cbs(self.cbs(name))

    def write(self, name: str, frame: pl.DataFrame, separator: str = ";") -> None:
        write_cbs(self.cbs(name), frame, separator)

    def remove(self, name: str) -> None:
        self.cbs(name).unlink()

    def read_extract(self, name: str) -> Extract:
        encoding = MUNICIPAL_FILES[name]
        text = self.municipal(name).read_bytes().decode(encoding)
        lines = [line for line in text.split("\r\n") if line]
        return Extract(lines[0].split(";"), [line.split(";") for line in lines[1:]], encoding)

    def write_extract(
        self, name: str, extract: Extract, encoding: str | None = None, separator: str = ";"
    ) -> None:
        lines = [separator.join(extract.header), *(separator.join(r) for r in extract.rows)]
        text = "".join(line + "\r\n" for line in lines)
        path = self.municipal(name)
        path.unlink(missing_ok=True)
        path.write_bytes(text.encode(encoding or extract.encoding))


# --- the base delivery --------------------------------------------------------------------------


def _keep_rows(args: tuple[Path, Path, frozenset, frozenset]) -> tuple[str, frozenset]:
    """Filter one CBS file to the kept persons (objects for VSLGWB); return its objects."""
    source, target, persons, objects = args
    frame = read_cbs(source)
    if "RINPERSOON" in frame.columns:
        frame = frame.filter(pl.col("RINPERSOON").is_in(list(persons)))
    else:
        frame = frame.filter(pl.col("RINOBJECTNUMMER").is_in(list(objects)))
    write_cbs(target, frame)
    found = (
        frozenset(frame["RINOBJECTNUMMER"]) if "RINOBJECTNUMMER" in frame.columns else frozenset()
    )
    return source.name, found


def choose_persons(synthetic: Path) -> frozenset[str]:
    rng = np.random.default_rng(SEED)
    truth = pl.read_parquet(synthetic / "truth" / "persons.parquet")
    cohort = truth.filter(pl.col("in_cohort"))["RINPERSOON"].to_list()
    study = truth.filter(~pl.col("in_cohort"))["RINPERSOON"].to_list()
    register, _ = pyreadstat.read_sav(
        synthetic / "cbs" / "GBAPERSOON2018TABV2.sav",
        usecols=["RINPERSOON"],
        output_format="polars",
    )
    others = sorted(set(register["RINPERSOON"]) - set(truth["RINPERSOON"]))
    chosen = [
        *rng.choice(cohort, N_COHORT, replace=False),
        *rng.choice(study, N_STUDY, replace=False),
        *rng.choice(others, N_OTHER, replace=False),
    ]
    return frozenset(str(rin) for rin in chosen)


def build_base(synthetic: Path, out: Path) -> Path:
    """The base delivery in `out` (cbs/, municipal/), cut from the synthetic snapshot."""
    synthetic, out = Path(synthetic), Path(out)
    for sub in ("cbs", "municipal"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    persons = choose_persons(synthetic)
    names = [n for n in CBS_FILES if not n.startswith("VSLGWB")]
    jobs = [(synthetic / "cbs" / n, out / "cbs" / n, persons, frozenset()) for n in names]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        objects = frozenset().union(*(found for _, found in pool.map(_keep_rows, jobs)))
    for name in (n for n in CBS_FILES if n.startswith("VSLGWB")):
        _keep_rows((synthetic / "cbs" / name, out / "cbs" / name, persons, objects))
    for name, encoding in MUNICIPAL_FILES.items():
        text = (synthetic / "municipal" / name).read_bytes().decode(encoding)
        lines = text.split("\r\n")
        key = lines[0].lstrip("\ufeff").split(";").index("RINPERSOON")
        unlinked = [line for line in lines[1:] if line and not line.split(";")[key].strip('"')]
        kept = [line for line in lines[1:] if line and line.split(";")[key] in persons]
        body = [lines[0], *kept, *unlinked[:N_UNLINKED]]
        (out / "municipal" / name).write_bytes("".join(f"{x}\r\n" for x in body).encode(encoding))
    return out


def copy_delivery(base: Path, target: Path) -> Delivery:
    """A copy of the base (file times kept, so that only what a case changes is newer)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, copy_function=shutil.copy2)
    return Delivery(target)


# --- changes: CBS files -------------------------------------------------------------------------

SECM = "SECMBUS2018V1.sav"
PERSONS = "GBAPERSOON2018TABV2.sav"
HOUSEHOLDS = "GBAHUISHOUDENS2018BUSV1.sav"
ADDRESSES = "GBAADRESOBJECT2018BUSV1.sav"
OBJECTS = "VSLGWB2018TAB03V1.sav"
DEBTS_CSV = "WANBZVW2015TABV1.csv"


def set_values(frame: pl.DataFrame, column: str, rows: list[int], value: str) -> pl.DataFrame:
    """`value` in `column` at 0-based `rows`."""
    hit = pl.int_range(pl.len()).is_in(rows)
    return frame.with_columns(
        pl.when(hit).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


def data_rows(rows: list[int]) -> str:
    """The message's row listing for 0-based frame rows."""
    return example_rows(sorted(r + 1 for r in rows))


def eleven_proof(n: int, seed: int = 1) -> list[str]:
    """`n` made-up nine-digit numbers that pass the BSN eleven-test (for the privacy cases):
    eight random digits and the ninth that makes the weighted sum divisible by 11."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 10, (2 * n + 20, 8))
    digits[:, 0] = rng.integers(1, 10, len(digits))
    last = (digits * np.array([9, 8, 7, 6, 5, 4, 3, 2])).sum(axis=1) % 11
    usable = last < 10
    numbers = np.column_stack([digits[usable], last[usable]])[:n]
    return ["".join(map(str, row)) for row in numbers]


def missing_file(d: Delivery) -> dict:
    d.remove(ADDRESSES)
    return {}


def missing_column(d: Delivery) -> dict:
    d.write(SECM, d.read(SECM).drop("SECM"))
    return {}


def columns_in_other_case(d: Delivery) -> dict:
    renames = {
        "RINPERSOONS": "rinpersoons",
        "RINPERSOON": "RinPersoon",
        "GBAGESLACHT": "gbaGeslacht",
    }
    d.write(PERSONS, d.read(PERSONS).rename(renames))
    return {}


def csv_copy_with_commas(d: Delivery) -> dict:
    frame = d.read("MEDICIJN2015TABV1.parquet")
    d.remove("MEDICIJN2015TABV1.parquet")
    d.write("MEDICIJN2015TABV1.csv", frame, separator=",")
    return {}


def csv_copy_with_tabs(d: Delivery) -> dict:
    d.write(DEBTS_CSV, d.read(DEBTS_CSV), separator="\t")
    return {}


def csv_copy_in_utf16(d: Delivery) -> dict:
    path = d.cbs(DEBTS_CSV)
    text = path.read_bytes().decode("utf-8")
    path.write_bytes(text.encode("utf-16"))
    return {}


def truncated_sav(d: Delivery) -> dict:
    path = d.cbs(SECM)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return {}


def empty_sav(d: Delivery) -> dict:
    d.cbs("HOOGSTEOPL2015TABV3.sav").write_bytes(b"")
    return {}


def csv_header_only(d: Delivery) -> dict:
    path = d.cbs(DEBTS_CSV)
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")
    return {}


def csv_row_with_a_field_too_many(d: Delivery) -> dict:
    """A RINPERSOON cut in two by a stray ';' in data row 4: one field too many."""
    path = d.cbs(DEBTS_CSV)
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4][:-6] + b";" + lines[4][-6:]
    path.write_bytes(b"\n".join(lines))
    return {"rows": example_rows([4])}


def rin_without_zero_padding(d: Delivery) -> dict:
    frame = d.read(DEBTS_CSV)
    short = frame["RINPERSOON"].str.starts_with("0")
    stripped = pl.col("RINPERSOON").str.strip_chars_start("0")
    d.write(DEBTS_CSV, frame.with_columns(stripped))
    return {"n": int(short.sum())}


def duplicate_persons(d: Delivery) -> dict:
    name = "HOOGSTEOPL2016TABV3.sav"
    frame = d.read(name)
    d.write(name, pl.concat([frame, frame.head(3)]))
    rows = [0, 1, 2, frame.height, frame.height + 1, frame.height + 2]
    return {"rows": example_rows([r + 1 for r in rows])}


def duplicate_medicine(d: Delivery) -> dict:
    name = "MEDICIJN2016TABV1.sav"
    frame = d.read(name)
    doubled = frame.head(1).with_columns(pl.col("ATC4").str.to_lowercase())
    d.write(name, pl.concat([frame, doubled]))
    return {"rows": example_rows([1, frame.height + 1])}


def overlapping_spells(d: Delivery) -> dict:
    """The first spell of a person with several ends on the day the next one starts."""
    frame = d.read(SECM)
    spells = frame.with_row_index("i").filter(pl.len().over("RINPERSOONS", "RINPERSOON") >= 2)
    person = spells["RINPERSOON"][0]
    first, second = spells.filter(pl.col("RINPERSOON") == person).sort("AANVSECM")["i"][:2]
    d.write(SECM, set_values(frame, "EINDSECM", [first], frame["AANVSECM"][second]))
    return {"rows": data_rows([second])}


def unknown_secm_code(d: Delivery) -> dict:
    rows = [4, 49, 499]
    d.write(SECM, set_values(d.read(SECM), "SECM", rows, "27"))
    return {"rows": data_rows(rows)}


def month_thirteen(d: Delivery) -> dict:
    rows = [9, 19]
    d.write(SECM, set_values(d.read(SECM), "AANVSECM", rows, "20151301"))
    return {"rows": data_rows(rows)}


def thirtieth_of_february(d: Delivery) -> dict:
    rows = [2]
    d.write(
        ADDRESSES, set_values(d.read(ADDRESSES), "GBADATUMAANVANGADRESHOUDING", rows, "20150230")
    )
    return {"rows": data_rows(rows)}


def address_date_out_of_range(d: Delivery) -> dict:
    rows = [0, 7]
    d.write(
        ADDRESSES, set_values(d.read(ADDRESSES), "GBADATUMAANVANGADRESHOUDING", rows, "18500101")
    )
    return {"rows": data_rows(rows)}


def household_ends_before_start(d: Delivery) -> dict:
    frame = d.read(HOUSEHOLDS)
    row = int(frame.with_row_index("i").filter(pl.col("DATUMAANVANGHH") > "19950101")["i"][0])
    d.write(HOUSEHOLDS, set_values(frame, "DATUMEINDEHH", [row], "19940101"))
    return {"rows": data_rows([row])}


def vslgwb_year_missing(d: Delivery) -> dict:
    d.write(OBJECTS, d.read(OBJECTS).drop("gem2016"))
    return {}


def negative_children(d: Delivery) -> dict:
    rows = [5, 6]
    d.write(HOUSEHOLDS, set_values(d.read(HOUSEHOLDS), "AANTALKINDHH", rows, "-1"))
    return {"rows": data_rows(rows)}


def blank_children(d: Delivery) -> dict:
    rows = list(range(0, 100, 10))
    d.write(HOUSEHOLDS, set_values(d.read(HOUSEHOLDS), "AANTALKINDHH", rows, ""))
    return {"n": len(rows)}


def only_provisional_version(d: Delivery) -> dict:
    d.cbs("HOOGSTEOPL2017TABV3.sav").rename(d.cbs("VRLHOOGSTEOPL2017TABV3.sav"))
    return {}


def two_files_one_version(d: Delivery) -> dict:
    d.write("GBAPERSOON2018TABV2.csv", d.read(PERSONS), separator=",")
    return {}


def bsn_column_in_cbs_file(d: Delivery) -> dict:
    frame = d.read(PERSONS)
    d.write(PERSONS, frame.with_columns(pl.Series("BSN", eleven_proof(frame.height))))
    return {}


def extra_columns(d: Delivery) -> dict:
    frame = d.read(SECM)
    d.write(SECM, frame.with_columns(pl.lit("1").alias("SECMBRON"), pl.lit("X").alias("VERSIE")))
    return {}


def shuffled_columns(d: Delivery) -> dict:
    frame = d.read(HOUSEHOLDS)
    d.write(HOUSEHOLDS, frame.select(list(reversed(frame.columns))))
    return {}


def s_numbers_like_r_numbers(d: Delivery) -> dict:
    frame = d.read(PERSONS)
    with_s = set(frame.filter(pl.col("RINPERSOONS") == "S")["RINPERSOON"])
    copies = (
        frame.filter((pl.col("RINPERSOONS") == "R") & ~pl.col("RINPERSOON").is_in(list(with_s)))
        .head(100)
        .with_columns(
            pl.lit("S").alias("RINPERSOONS"),
            pl.lit("1951").alias("GBAGEBOORTEJAAR"),
            pl.lit("5022").alias("GBAHERKOMSTGROEPERING"),
        )
    )
    d.write(PERSONS, pl.concat([frame, copies]))
    return {}


def rinpersoons_lower_case(d: Delivery) -> dict:
    frame = d.read(SECM)
    d.write(SECM, frame.with_columns(pl.col("RINPERSOONS").str.to_lowercase()))
    return {"n": frame.height}


def codes_without_leading_space(d: Delivery) -> dict:
    frame = d.read(HOUSEHOLDS)
    d.write(HOUSEHOLDS, frame.with_columns(pl.col("PLHH", "TYPHH").str.strip_chars()))
    return {}


def municipality_codes_unpadded(d: Delivery) -> dict:
    frame = d.read(OBJECTS)
    gem = [c for c in frame.columns if c.upper().startswith("GEM")]
    n = int(frame["gem2016"].str.starts_with("0").sum())
    d.write(OBJECTS, frame.with_columns(pl.col(gem).str.strip_chars_start("0")))
    return {"n": n}


def education_code_malformed(d: Delivery) -> dict:
    name, rows = "HOOGSTEOPL2016TABV3.sav", [3]
    d.write(name, set_values(d.read(name), "OPLNIVSOI2016AGG4HBMETNIRWO", rows, "9X99"))
    return {"rows": data_rows(rows)}


# --- changes: municipal extracts ----------------------------------------------------------------

BENEFITS, INTAKES, INTERVENTIONS = "uitkeringen.csv", "werkintake.csv", "interventies.csv"


def _set_fields(d: Delivery, name: str, column: str, rows: list[int], value: str) -> dict:
    extract = d.read_extract(name)
    position = extract.column(column)
    for row in rows:
        extract.rows[row][position] = value
    d.write_extract(name, extract)
    return {"rows": data_rows(rows)}


def _add_column(d: Delivery, name: str, column: str, values: Callable[[int], str], **kw) -> dict:
    extract = d.read_extract(name)
    extract.header.append(column)
    for i, row in enumerate(extract.rows):
        row.append(values(i))
    d.write_extract(name, extract, **kw)
    return {}


def _distinct_linked(extract: Extract, n: int) -> list[int]:
    """`n` rows of different persons (so no two become exact duplicates)."""
    key, seen, rows = extract.column("RINPERSOON"), set(), []
    for i in extract.linked():
        if extract.rows[i][key] not in seen:
            seen.add(extract.rows[i][key])
            rows.append(i)
        if len(rows) == n:
            break
    return rows


def municipal_file_missing(d: Delivery) -> dict:
    d.municipal(INTAKES).unlink()
    return {}


def municipal_column_missing(d: Delivery) -> dict:
    extract = d.read_extract(BENEFITS)
    position = extract.column("DATUM_EINDE")
    extract.header.pop(position)
    for row in extract.rows:
        row.pop(position)
    d.write_extract(BENEFITS, extract)
    return {}


def municipal_header_case(d: Delivery) -> dict:
    extract = d.read_extract(INTAKES)
    extract.header = [f" {h.lower()}" if i % 2 else h.title() for i, h in enumerate(extract.header)]
    d.write_extract(INTAKES, extract)
    return {}


def municipal_comma_delimiter(d: Delivery) -> dict:
    d.write_extract(BENEFITS, d.read_extract(BENEFITS), separator=",")
    return {}


def municipal_cp1252_behind_bom(d: Delivery) -> dict:
    path = d.municipal(INTERVENTIONS)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    return {}


def municipal_cp1252_without_bom(d: Delivery) -> dict:
    return _add_column(
        d, INTAKES, "OPMERKING", lambda i: "geïnformeerd" if i % 3 else "", encoding="cp1252"
    )


def municipal_utf16(d: Delivery) -> dict:
    path = d.municipal(BENEFITS)
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("utf-16"))
    return {}


def municipal_header_only(d: Delivery) -> dict:
    extract = d.read_extract(INTAKES)
    extract.rows = []
    d.write_extract(INTAKES, extract)
    return {}


def municipal_empty_file(d: Delivery) -> dict:
    d.municipal(INTERVENTIONS).write_bytes(b"")
    return {}


def municipal_rin_unpadded(d: Delivery) -> dict:
    extract = d.read_extract(BENEFITS)
    key = extract.column("RINPERSOON")
    changed = set()
    for row in extract.rows:
        if row[key].startswith("0"):
            row[key] = row[key].lstrip("0")
            changed.add(tuple(field.strip('"') for field in row))
    d.write_extract(BENEFITS, extract)
    return {"n": len(changed)}


def municipal_unknown_regeling(d: Delivery) -> dict:
    extract = d.read_extract(BENEFITS)
    return _set_fields(d, BENEFITS, "REGELING", _distinct_linked(extract, 3), "WW")


def municipal_impossible_date(d: Delivery) -> dict:
    extract = d.read_extract(INTAKES)
    return _set_fields(d, INTAKES, "INTAKEDATUM", _distinct_linked(extract, 2), "31-02-2015")


def municipal_date_out_of_range(d: Delivery) -> dict:
    extract = d.read_extract(INTERVENTIONS)
    return _set_fields(d, INTERVENTIONS, "STARTDATUM", _distinct_linked(extract, 2), "01-01-1899")


def pw_end_before_start(d: Delivery) -> dict:
    extract = d.read_extract(BENEFITS)
    rows = _distinct_linked(extract, 2)
    start, end = extract.column("DATUM_AANVANG"), extract.column("DATUM_EINDE")
    for row in rows:
        extract.rows[row][start], extract.rows[row][end] = "01-06-2016", "15-03-2016"
    d.write_extract(BENEFITS, extract)
    return {"rows": data_rows(rows)}


def municipal_name_column(d: Delivery) -> dict:
    return _add_column(d, INTAKES, "Naam client", lambda i: f"J. de Vries {i}")


def municipal_bsn_column(d: Delivery) -> dict:
    numbers = eleven_proof(100_000)
    return _add_column(d, BENEFITS, "BSN", lambda i: numbers[i])


def municipal_bsnnummer_column(d: Delivery) -> dict:
    numbers = eleven_proof(100_000)
    return _add_column(d, BENEFITS, "BSNNUMMER", lambda i: numbers[i])


def municipal_header_missing(d: Delivery) -> dict:
    """werkintake.csv without its header line: its first person's row stands where the column
    names should be (a RIN among them), and no message may quote it."""
    path = d.municipal(INTAKES)
    path.write_bytes(path.read_bytes().split(b"\n", 1)[1])
    return {}


def municipal_bsn_in_free_text(d: Delivery) -> dict:
    extract = d.read_extract(INTERVENTIONS)
    rows = _distinct_linked(extract, 1)
    return _set_fields(d, INTERVENTIONS, "INTERVENTIE", rows, "Scholing ref 111222333")


def municipal_birth_date(d: Delivery) -> dict:
    return _add_column(d, INTAKES, "GEBOORTEDATUM", lambda i: f"{1 + i % 28:02d}-03-1980")


def municipal_postcode_with_house_number(d: Delivery) -> dict:
    return _add_column(d, BENEFITS, "POSTCODE", lambda i: f"30{11 + i % 80} AB {1 + i % 120}")


def municipal_ragged_rows(d: Delivery) -> dict:
    extract = d.read_extract(BENEFITS)
    rows = [3, 8]
    for row in rows:
        extract.rows[row].pop()
    d.write_extract(BENEFITS, extract)
    return {"rows": data_rows(rows)}


def municipal_extra_column(d: Delivery) -> dict:
    return _add_column(d, BENEFITS, "KOSTENPLAATS", lambda i: f"KP{i % 7:02d}")


def municipal_duplicate_column(d: Delivery) -> dict:
    extract = d.read_extract(INTAKES)
    return _add_column(
        d, INTAKES, "afdeling", lambda i: extract.rows[i][extract.column("AFDELING")]
    )


def municipal_rinpersoons_lower_case(d: Delivery) -> dict:
    extract = d.read_extract(INTAKES)
    source = extract.column("RINPERSOONS")
    changed = set()
    for row in extract.rows:
        if row[source] == "R":
            row[source] = "r"
            changed.add(tuple(field.strip('"') for field in row))
    d.write_extract(INTAKES, extract)
    return {"n": len(changed)}


def _plain_row(extract: Extract, position: int, ahead: int) -> int:
    """A linked row whose field (and the next `ahead` rows' fields) has text and no quote."""
    for row in extract.linked():
        fields = [r[position] for r in extract.rows[row : row + ahead + 1]]
        if len(fields) == ahead + 1 and all(f and '"' not in f for f in fields):
            return row
    raise AssertionError("no plain row")


def _day(text: str) -> dt.date:
    text = text.strip('"')
    for fmt in ("%d-%m-%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(text)


def _quoted_over_lines(name: str, column: str, ahead: int) -> Callable[[Delivery], dict]:
    """A stray '"' opens a field that the row `ahead` rows later closes: a reader that accepts
    quoted line breaks merges the rows in between into one value (other persons' rows)."""

    def make(d: Delivery) -> dict:
        extract = d.read_extract(name)
        position = extract.column(column)
        row = _plain_row(extract, position, ahead)
        extract.rows[row][position] = '"' + extract.rows[row][position]
        extract.rows[row + ahead][position] = extract.rows[row + ahead][position] + '"'
        d.write_extract(name, extract)
        return {"rows": data_rows([row])}

    return make


def csv_quoted_field_over_lines(d: Delivery) -> dict:
    """A CBS CSV copy with a RINPERSOON quoted open in data row 3 and closed two rows later."""
    path = d.cbs(DEBTS_CSV)
    lines = path.read_bytes().split(b"\n")
    fields = lines[3].split(b";")
    fields[-1] = b'"' + fields[-1]
    lines[3] = b";".join(fields)
    lines[5] = lines[5] + b'"'
    path.write_bytes(b"\n".join(lines))
    return {"rows": example_rows([3])}


def caseworker_codes_mixed_case(d: Delivery) -> dict:
    """Every second intake's caseworker code in lower case, every fifth with a space inside."""
    extract = d.read_extract(INTAKES)
    position = extract.column("WERKCONSULENT")
    copies = Counter(";".join(row) for row in extract.rows)  # exact duplicates are dropped
    changed = 0
    for i, row in enumerate(extract.rows):
        code = row[position]
        if copies[";".join(row)] > 1:
            continue
        if i % 2 == 0 and code.strip('"'):
            row[position] = code.lower()
            changed += 1
        elif i % 5 == 1 and len(code.strip('"')) > 2:
            row[position] = code[:2] + " " + code[2:]
            changed += 1
    d.write_extract(INTAKES, extract)
    return {"n": changed}


def referral_before_intake(d: Delivery) -> dict:
    """Referrals dated 60 days before their intake in five rows (other rows dated the same day
    as their intake stay valid: the boundary)."""
    extract = d.read_extract(INTAKES)
    intake, referral = extract.column("INTAKEDATUM"), extract.column("VERWIJSDATUM")
    rows = [i for i in extract.linked() if extract.rows[i][referral].strip('"')][:7]
    for i in rows:
        day = _day(extract.rows[i][intake])
        shift = dt.timedelta(days=60) if i in rows[:5] else dt.timedelta(0)
        extract.rows[i][referral] = (day - shift).strftime("%d-%m-%Y")
    d.write_extract(INTAKES, extract)
    return {"rows": data_rows(rows[:5])}


def _bsn_in(notation: Callable[[str], str]) -> Callable[[Delivery], dict]:
    def make(d: Delivery) -> dict:
        """The file saved as UTF-8 (Windows-1252 has no full-width digits)."""
        extract = d.read_extract(INTERVENTIONS)
        rows = _distinct_linked(extract, 2)
        position = extract.column("INTERVENTIE")
        for row in rows:
            extract.rows[row][position] = notation(eleven_proof(1, 7)[0])
        d.write_extract(INTERVENTIONS, extract, encoding="utf-8")
        return {"rows": data_rows(rows)}

    return make


def municipal_identifiers_in_free_text(d: Delivery) -> dict:
    """A caseworker's notes in INTERVENTIE: a name after a title, an e-mail address and a phone
    number, each in another row."""
    extract = d.read_extract(INTERVENTIONS)
    rows = _distinct_linked(extract, 3)
    position = extract.column("INTERVENTIE")
    notes = (
        "Werkfit, mevr. Jansen",
        "Scholing, mail j.jansen@voorbeeld.nl",
        "Coaching tel 06-12345678",
    )
    for row, note in zip(rows, notes, strict=True):
        extract.rows[row][position] = note
    d.write_extract(INTERVENTIONS, extract)
    return {"rows": data_rows(rows)}


def municipal_name_in_location(d: Delivery) -> dict:
    """Another free-text column: LOCATIE holding a caseworker's note about a client."""
    extract = d.read_extract(INTAKES)
    rows = _distinct_linked(extract, 2)
    return _set_fields(d, INTAKES, "LOCATIE", rows, "Werkplein Zuid (dhr. de Vries)")


def municipal_formulas_in_free_text(d: Delivery) -> dict:
    """Spreadsheet formulas as intervention texts: neutralised, counted, the analysis unchanged."""
    extract = d.read_extract(INTERVENTIONS)
    rows = _distinct_linked(extract, 3)
    position = extract.column("INTERVENTIE")
    for row, formula in zip(
        rows, ('=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1+1)"), strict=True
    ):
        extract.rows[row][position] = formula
    d.write_extract(INTERVENTIONS, extract)
    return {"n": 3}


def sav_bytes_as_municipal_csv(d: Delivery) -> dict:
    """An SPSS file saved under the extract's name (the wrong export button)."""
    d.municipal(BENEFITS).write_bytes(d.cbs(SECM).read_bytes()[:200_000])
    return {}


def xlsx_bytes_as_cbs_csv(d: Delivery) -> dict:
    """A zip archive (an Excel workbook) under a CBS CSV copy's name."""
    d.cbs(DEBTS_CSV).write_bytes(b"PK\x03\x04" + bytes(range(256)) * 20)
    return {}


def register_year_not_delivered(d: Delivery) -> dict:
    """The latest education year lags: HOOGSTEOPL2017 not delivered at all. (The 2016 file is
    touched: the corpus reruns by modification time, and the 2016 file is now the input of the
    2017 table.)"""
    d.remove("HOOGSTEOPL2017TABV3.sav")
    d.cbs("HOOGSTEOPL2016TABV3.sav").touch()
    return {}


def _repair(report: str, column: str, check: str, count: str = "{n}") -> dict[str, str]:
    """Expect a validation report line: column, check, action and count."""
    return {f"qc/{report}": rf"(?m)^[^,]+,{column},{check},(repaired|accepted),{count},"}


# fmt: off
CASES: list[Case] = [
    # CBS files: which files
    Case("cbs_file_missing", "GBAADRESOBJECT2018BUSV1.sav removed", missing_file, ERROR, "dag",
         message=r"GBAADRESOBJECT \(latest year\): no file found; there is no file of stem GBAADRESOBJECT at all"),
    Case("only_provisional_version", "HOOGSTEOPL2017TABV3.sav renamed VRLHOOGSTEOPL2017TABV3.sav", only_provisional_version, ERROR, "dag",
         message=r"HOOGSTEOPL2017: no file found.*only provisional VRL: VRLHOOGSTEOPL2017TABV3\.sav"),
    Case("register_year_not_delivered", "HOOGSTEOPL2017TABV3.sav not delivered (the year lags)",
         register_year_not_delivered, PASS, CBS_RULE, "education_2017",
         expect_in_files={"qc/validation_education_2017.csv": r"register_year_fallback,accepted,1,no 2017 file"}),
    Case("two_files_one_version", "a CSV copy GBAPERSOON2018TABV2.csv next to the .sav", two_files_one_version, ERROR, "dag",
         message=r"GBAPERSOON2018: version V2 is ambiguous, 2 files claim it"),
    # CBS files: form
    Case("cbs_column_missing", "SECM column dropped from SECMBUS2018V1.sav", missing_column, ERROR, CBS_RULE, "secm",
         message=r"SECMBUS2018V1\.sav: column\(s\) SECM not found"),
    Case("cbs_columns_in_other_case", "GBAPERSOON column names in lower and mixed case", columns_in_other_case, PASS, CBS_RULE, "persons",
         same_as_base=True),
    Case("csv_copy_with_commas", "MEDICIJN2015 as a ','-separated CSV copy instead of Parquet", csv_copy_with_commas, PASS, CBS_RULE, "medicines_2015",
         same_as_base=True),
    Case("csv_copy_with_tabs", "WANBZVW2015TABV1.csv tab-separated", csv_copy_with_tabs, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: the header line has no ',' or ';' \(it has tabs"),
    Case("csv_copy_in_utf16", "WANBZVW2015TABV1.csv saved as UTF-16", csv_copy_in_utf16, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: the file looks like UTF-16"),
    Case("truncated_sav", "SECMBUS2018V1.sav cut off at 60% of its bytes", truncated_sav, ERROR, CBS_RULE, "secm",
         message=r"SECMBUS2018V1\.sav: (read \d+ rows but the SPSS header announces \d+|cannot read as SPSS)"),
    Case("empty_sav", "HOOGSTEOPL2015TABV3.sav of 0 bytes", empty_sav, ERROR, CBS_RULE, "education_2015",
         message=r"HOOGSTEOPL2015TABV3\.sav: the file is empty \(0 bytes\)"),
    Case("csv_row_with_a_field_too_many", "WANBZVW2015TABV1.csv: a ';' inside a RINPERSOON in one row", csv_row_with_a_field_too_many, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: rows that do not have the header's fields \(';'-separated\), too many columns: 1 row\(s\), {rows}"),
    Case("csv_header_only", "WANBZVW2015TABV1.csv with its header and no rows", csv_header_only, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: the file has no rows"),
    Case("cbs_extra_columns", "two unknown columns added to SECMBUS2018V1.sav", extra_columns, PASS, CBS_RULE, "secm", same_as_base=True),
    Case("cbs_columns_shuffled", "GBAHUISHOUDENS columns in reverse order", shuffled_columns, PASS, CBS_RULE, "households", same_as_base=True),
    Case("bsn_column_in_cbs_file", "a BSN column (eleven-test numbers) in GBAPERSOON2018TABV2.sav", bsn_column_in_cbs_file,
         ERROR, CBS_RULE, "persons",
         message=r"GBAPERSOON2018TABV2\.sav: refused, the file carries a direct identifier: column 'BSN' \(column 8\) looks like a citizen service number"),
    # CBS files: keys
    Case("rin_without_zero_padding", "WANBZVW2015 RINPERSOON without its leading zeros", rin_without_zero_padding, PASS, CBS_RULE, "debts_2015",
         expect_in_files=_repair("validation_debts_2015.csv", "RINPERSOON", "zero_padding_added"), same_as_base=True),
    Case("rinpersoons_lower_case", "SECMBUS RINPERSOONS 'r' instead of 'R'", rinpersoons_lower_case, PASS, CBS_RULE, "secm",
         expect_in_files=_repair("validation_secm.csv", "RINPERSOONS", "case_or_spaces"), same_as_base=True),
    Case("s_numbers_like_r_numbers", "GBAPERSOON rows with RINPERSOONS 'S' and the number of an 'R' person", s_numbers_like_r_numbers,
         PASS, CBS_RULE, "persons", same_as_base=True),
    Case("duplicate_persons_tab", "three persons twice in HOOGSTEOPL2016TABV3.sav", duplicate_persons, ERROR, CBS_RULE, "education_2016",
         message=r"columns RINPERSOONS, RINPERSOON: the key \(RINPERSOONS, RINPERSOON\) occurs more than once; it must be unique: 6 row\(s\), {rows}"),
    Case("duplicate_medicine_atc", "a person and ATC4 twice in MEDICIJN2016 (once in lower case)", duplicate_medicine, ERROR, CBS_RULE, "medicines_2016",
         message=r"the key \(RINPERSOONS, RINPERSOON, ATC4\) occurs more than once.*: 2 row\(s\), {rows}"),
    Case("overlapping_spells", "a SECM spell extended into the person's next spell", overlapping_spells, ERROR, CBS_RULE, "secm",
         message=r"SECMBUS2018V1\.sav: .*columns AANVSECM, EINDSECM: spells of one person overlap.*: 1 row\(s\), {rows}"),
    # CBS files: codes and dates
    Case("unknown_secm_code", "SECM code 27 in three rows", unknown_secm_code, ERROR, CBS_RULE, "secm",
         message=r"column SECM: is not a SECM code of the contract \(11-15, 21-26, 31, 32\): 3 row\(s\), {rows}"),
    Case("impossible_date_month_13", "AANVSECM 20151301 in two rows", month_thirteen, ERROR, CBS_RULE, "secm",
         message=r"column AANVSECM: is not a date YYYYMMDD \(a real calendar day\): 2 row\(s\), {rows}"),
    Case("impossible_date_30_february", "an address spell starting 20150230", thirtieth_of_february, ERROR, CBS_RULE, "addresses",
         message=r"column GBADATUMAANVANGADRESHOUDING: is not a date YYYYMMDD.*: 1 row\(s\), {rows}"),
    Case("address_date_out_of_range", "address spells starting in 1850", address_date_out_of_range, ERROR, CBS_RULE, "addresses",
         message=r"column GBADATUMAANVANGADRESHOUDING: is a date outside 1900-2050.*: 2 row\(s\), {rows}"),
    Case("household_ends_before_start", "a household spell ending before it starts", household_ends_before_start, ERROR, CBS_RULE, "households",
         message=r"columns DATUMAANVANGHH, DATUMEINDEHH: the spell ends before it starts: 1 row\(s\), {rows}"),
    Case("vslgwb_year_missing", "gem2016 dropped from VSLGWB2018TAB03V1.sav", vslgwb_year_missing, ERROR, CBS_RULE, "municipalities",
         message=r"VSLGWB2018TAB03V1\.sav: column\(s\) GEM2016 not found"),
    Case("negative_children", "AANTALKINDHH -1 in two rows", negative_children, ERROR, CBS_RULE, "households",
         message=r"column AANTALKINDHH: is not a number of children in the household \(a whole number from 0 to 30, or unknown\): 2 row\(s\), {rows}"),
    Case("blank_children", "AANTALKINDHH empty in ten rows", blank_children, PASS, CBS_RULE, "households",
         expect_in_files=_repair("validation_households.csv", "AANTALKINDHH", "unknown")),
    Case("codes_without_leading_space", "PLHH and TYPHH written '2' instead of ' 2'", codes_without_leading_space, PASS, CBS_RULE, "households",
         expect_in_files=_repair("validation_households.csv", "PLHH", "code_with_spaces", "0"), same_as_base=True),
    Case("municipality_codes_unpadded", "VSLGWB municipality codes without leading zero (599)", municipality_codes_unpadded, PASS, CBS_RULE, "municipalities",
         expect_in_files=_repair("validation_municipalities.csv", "GEM2016", "zero_padding_added"), same_as_base=True),
    Case("education_code_malformed", "education code 9X99", education_code_malformed, ERROR, CBS_RULE, "education_2016",
         message=r"column OPLNIVSOI2016AGG4HBMETNIRWO: is not a four-digit SOI education code.*: 1 row\(s\), {rows}"),
    # municipal extracts: form
    Case("municipal_file_missing", "werkintake.csv removed", municipal_file_missing, ERROR, "dag",
         message=r"Missing input files for rule clean_municipal"),
    Case("municipal_column_missing", "DATUM_EINDE dropped from uitkeringen.csv", municipal_column_missing, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: missing column\(s\) DATUM_EINDE"),
    Case("municipal_header_case", "werkintake.csv header in other case, with stray spaces", municipal_header_case, PASS, MUNICIPAL_RULE, "werkintake",
         same_as_base=True),
    Case("municipal_comma_delimiter", "uitkeringen.csv ','-separated", municipal_comma_delimiter, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: expected ';' as delimiter in the header line"),
    Case("municipal_cp1252_behind_bom", "interventies.csv (Windows-1252) behind a UTF-8 byte-order mark", municipal_cp1252_behind_bom,
         PASS, MUNICIPAL_RULE, "interventies", expect_in_files={"qc/cleaning_interventies.csv": r"encoding,cp1252 behind a UTF-8 byte-order mark"}, same_as_base=True),
    Case("municipal_cp1252_without_bom", "werkintake.csv in Windows-1252 without BOM, with an accented remark column",
         municipal_cp1252_without_bom, PASS, MUNICIPAL_RULE, "werkintake", expect_in_files={"qc/cleaning_werkintake.csv": r"encoding,cp1252"}, same_as_base=True),
    Case("municipal_utf16", "uitkeringen.csv saved as UTF-16", municipal_utf16, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: the file looks like UTF-16"),
    Case("sav_bytes_as_municipal_csv", "uitkeringen.csv holding the bytes of an SPSS .sav file",
         sav_bytes_as_municipal_csv, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: the file is an SPSS \.sav file .*by its first bytes, not a CSV text file"),
    Case("xlsx_bytes_as_cbs_csv", "WANBZVW2015TABV1.csv holding a zip archive (an Excel workbook)",
         xlsx_bytes_as_cbs_csv, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: the file is a zip archive \(an Excel \.xlsx workbook\?\) by its first bytes"),
    Case("municipal_header_only", "werkintake.csv with its header and no rows", municipal_header_only, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: the file has a header but no data rows"),
    Case("municipal_empty_file", "interventies.csv of 0 bytes", municipal_empty_file, ERROR, MUNICIPAL_RULE, "interventies",
         message=r"interventies\.csv: the file is empty"),
    Case("municipal_ragged_rows", "two uitkeringen.csv rows missing their last field", municipal_ragged_rows, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: 2 row\(s\) do not have the 5 ';'-separated fields of the header: {rows}"),
    Case("municipal_extra_column", "an unknown column in uitkeringen.csv", municipal_extra_column, PASS, MUNICIPAL_RULE, "uitkeringen", same_as_base=True),
    Case("municipal_duplicate_column", "werkintake.csv with AFDELING and afdeling", municipal_duplicate_column, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: column\(s\) AFDELING occur more than once in the header"),
    # municipal extracts: values
    Case("municipal_rin_unpadded", "uitkeringen.csv RINPERSOON without its leading zeros", municipal_rin_unpadded, PASS, MUNICIPAL_RULE, "uitkeringen",
         expect_in_files=_repair("validation_uitkeringen.csv", "RINPERSOON", "zero_padding_added"), same_as_base=True),
    Case("municipal_rinpersoons_lower_case", "werkintake.csv RINPERSOONS 'r'", municipal_rinpersoons_lower_case, PASS, MUNICIPAL_RULE, "werkintake",
         expect_in_files=_repair("validation_werkintake.csv", "RINPERSOONS", "case_or_spaces"), same_as_base=True),
    Case("municipal_unknown_regeling", "REGELING WW in three rows", municipal_unknown_regeling, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"column REGELING: is not a REGELING of the contract \(PW, IOAW, IOAZ, BBZ, any case\): 3 row\(s\), {rows}"),
    Case("municipal_impossible_date", "INTAKEDATUM 31-02-2015 in two rows", municipal_impossible_date, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"column INTAKEDATUM: 2 value\(s\) not a date in any accepted format.*: {rows}"),
    Case("municipal_date_out_of_range", "STARTDATUM in 1899", municipal_date_out_of_range, ERROR, MUNICIPAL_RULE, "interventies",
         message=r"column STARTDATUM: is a date outside 1990-2030, implausible for this extract: 2 row\(s\), {rows}"),
    Case("pw_end_before_start", "PW records ending months before they start", pw_end_before_start, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"columns DATUM_AANVANG, DATUM_EINDE: the end lies in a month before the start: 2 row\(s\), {rows}"),
    # municipal extracts and CSV copies: a quoted field over a line break merges rows
    Case("municipal_quoted_field_over_lines", "a '\"' opening an INTERVENTIE field that closes three rows later",
         _quoted_over_lines(INTERVENTIONS, "INTERVENTIE", 3), ERROR, MUNICIPAL_RULE, "interventies",
         message=r"interventies\.csv: column INTERVENTIE: a quoted field runs over a line break.*: 1 row\(s\), {rows}"),
    Case("municipal_quoted_date_over_lines", "a '\"' before a VERWIJSDATUM that closes two rows later",
         _quoted_over_lines(INTAKES, "VERWIJSDATUM", 2), ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: column VERWIJSDATUM: a quoted field runs over a line break.*: 1 row\(s\), {rows}"),
    Case("csv_quoted_field_over_lines", "WANBZVW2015TABV1.csv: a RINPERSOON quoted open over two line breaks",
         csv_quoted_field_over_lines, ERROR, CBS_RULE, "debts_2015",
         message=r"WANBZVW2015TABV1\.csv: column RINPERSOON: a quoted field runs over a line break.*: 1 row\(s\), {rows}"),
    # municipal extracts: codes and dates that must agree across rows and columns
    Case("caseworker_codes_mixed_case", "WERKCONSULENT lower-cased in every second row, a space inside in others",
         caseworker_codes_mixed_case, PASS, MUNICIPAL_RULE, "werkintake",
         expect_in_files={"qc/cleaning_werkintake.csv": r"caseworker_codes_normalised,{n}"}, same_as_base=True),
    Case("referral_before_intake", "VERWIJSDATUM 60 days before INTAKEDATUM in five rows (same day in two)",
         referral_before_intake, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"columns INTAKEDATUM, VERWIJSDATUM: the referral is dated before its intake: 5 row\(s\), {rows}"),
    # municipal extracts: privacy
    Case("municipal_name_column", "a 'Naam client' column in werkintake.csv", municipal_name_column, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: refused, the file carries a direct identifier: column 'Naam client' \(column 8\) looks like a name"),
    Case("municipal_bsn_column", "a BSN column in uitkeringen.csv", municipal_bsn_column, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: refused.*column 'BSN' \(column 6\) looks like a citizen service number"),
    Case("municipal_bsnnummer_column", "a BSNNUMMER column in uitkeringen.csv", municipal_bsnnummer_column, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: refused.*column 'BSNNUMMER' \(column 6\) looks like a citizen service number"),
    Case("municipal_header_missing", "werkintake.csv without its header line", municipal_header_missing, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: the first line names none of the expected columns .*the header row is missing"),
    Case("municipal_bsn_in_free_text", "a BSN-valid number inside an INTERVENTIE text", municipal_bsn_in_free_text, ERROR, MUNICIPAL_RULE, "interventies",
         message=r"interventies\.csv: refused.*column 'INTERVENTIE': a nine-digit number that passes the BSN eleven-test in {rows}"),
    Case("municipal_bsn_with_dashes_in_free_text", "a BSN written 123-456-782 in two INTERVENTIE texts",
         _bsn_in(lambda b: f"Scholing {b[:3]}-{b[3:6]}-{b[6:]}"), ERROR, MUNICIPAL_RULE, "interventies",
         message=r"column 'INTERVENTIE': a number that passes the BSN eleven-test written with separators.*{rows}"),
    Case("municipal_bsn_spaced_digits_in_free_text", "a BSN with a space between every digit",
         _bsn_in(lambda b: "Traject " + " ".join(b)), ERROR, MUNICIPAL_RULE, "interventies",
         message=r"column 'INTERVENTIE': a number that passes the BSN eleven-test written with separators.*{rows}"),
    Case("municipal_bsn_full_width_in_free_text", "a BSN in full-width digits",
         _bsn_in(lambda b: "Werkfit " + "".join(chr(0xFF10 + int(c)) for c in b)), ERROR, MUNICIPAL_RULE, "interventies",
         message=r"column 'INTERVENTIE': a number that passes the BSN eleven-test .*in other digits.*{rows}"),
    Case("municipal_identifiers_in_free_text", "a name after a title, an e-mail address and a phone number in INTERVENTIE",
         municipal_identifiers_in_free_text, ERROR, MUNICIPAL_RULE, "interventies",
         message=r"column 'INTERVENTIE': a person's name after a title.*column 'INTERVENTIE': an e-mail address.*column 'INTERVENTIE': a telephone number"),
    Case("municipal_name_in_location", "'dhr. de Vries' in two LOCATIE values of werkintake.csv",
         municipal_name_in_location, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: refused.*column 'LOCATIE': a person's name after a title .*in {rows}"),
    Case("municipal_formulas_in_free_text", "=HYPERLINK(, +cmd| and @SUM as INTERVENTIE texts",
         municipal_formulas_in_free_text, PASS, MUNICIPAL_RULE, "interventies",
         expect_in_files={"qc/cleaning_interventies.csv": r"formula_like_values_neutralised,{n}"}),
    Case("municipal_birth_date", "a GEBOORTEDATUM column (day level) in werkintake.csv", municipal_birth_date, ERROR, MUNICIPAL_RULE, "werkintake",
         message=r"werkintake\.csv: refused.*column 'GEBOORTEDATUM' \(column 8\) looks like a date of birth at day level"),
    Case("municipal_postcode_with_house_number", "a POSTCODE column with house numbers in uitkeringen.csv",
         municipal_postcode_with_house_number, ERROR, MUNICIPAL_RULE, "uitkeringen",
         message=r"uitkeringen\.csv: refused.*column 'POSTCODE': a postcode with a house number in data rows 1, 2, 3, 4 and 5"),
]
# fmt: on


def build_case(case: Case, base: Path, out: Path) -> dict:
    """The case's delivery in `out` (a changed copy of the base); returns the change's facts."""
    return case.make(copy_delivery(base, out))


def main() -> None:
    synthetic, out = Path(sys.argv[1]), Path(sys.argv[2])
    base = build_base(synthetic, out / "base")
    for case in CASES:
        facts = build_case(case, base, out / case.name)
        print(f"{case.name:40s} {case.outcome:5s} {case.change} {facts or ''}")


if __name__ == "__main__":
    main()
