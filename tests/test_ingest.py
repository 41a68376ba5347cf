"""The CBS readers: file names, version choice, and conversion of .sav/.csv/.parquet to string Parquet."""

import datetime
import logging
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pyreadstat
import pytest
from wwvw.ingest import cbs as ingest
from wwvw.ingest.cbs import (
    CbsName,
    InputError,
    Wanted,
    choose_files,
    convert_to_parquet,
    declares_user_missing,
    parse_cbs_name,
    pyreadstat_reasons,
    text_columns,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "ingest_cbs.py"
SYNTHETIC_SECM = ROOT / "resources" / "synthetic" / "cbs" / "SECMBUS2018V1.sav"


def people(n: int = 10) -> pd.DataFrame:
    """A tiny CBS-like table: zero-padded keys, codes with a leading space, unknown codes."""
    return pd.DataFrame(
        {
            "RINPERSOONS": ["R"] * n,
            "RINPERSOON": [f"{12345 + i:09d}" for i in range(n)],
            "Gem2015": ["0599" if i % 2 else "0363" for i in range(n)],
            "gem2016": ["0599"] * n,
            "PLHH": [" 2" if i % 3 else "10" for i in range(n)],
            "HERKOMST": ["----" if i % 4 == 0 else "6030" for i in range(n)],
        }
    )


def write_sav(path: Path, frame: pd.DataFrame, **options) -> Path:
    pyreadstat.write_sav(frame, path, **options)
    return path


def read_back(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path)


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename,expected",
    [
        ("GBAPERSOON2018TABV2.sav", ("GBAPERSOON", "TAB", 2018, 2, False, "sav", "")),
        ("GBAPERSOON2018TABV1.sav", ("GBAPERSOON", "TAB", 2018, 1, False, "sav", "")),
        ("SECMBUS2018V1.sav", ("SECM", "BUS", 2018, 1, False, "sav", "")),
        ("VRLHOOGSTEOPL2016TABV4.sav", ("HOOGSTEOPL", "TAB", 2016, 4, True, "sav", "")),
        ("VSLGWB2018TAB03V1.sav", ("VSLGWB", "TAB", 2018, 1, False, "sav", "03")),
        ("GBAHUISHOUDENS2018BUSV1.sav", ("GBAHUISHOUDENS", "BUS", 2018, 1, False, "sav", "")),
        ("WANBZVW2015TABV1.csv", ("WANBZVW", "TAB", 2015, 1, False, "csv", "")),
        ("MEDICIJN2015TABV1.parquet", ("MEDICIJN", "TAB", 2015, 1, False, "parquet", "")),
        ("HOOGSTEOPL2015TABV12.sav", ("HOOGSTEOPL", "TAB", 2015, 12, False, "sav", "")),
        ("gbapersoon2018tabv2.SAV", ("GBAPERSOON", "TAB", 2018, 2, False, "sav", "")),
        ("vrlhoogsteopl2016tabv4.sav", ("HOOGSTEOPL", "TAB", 2016, 4, True, "sav", "")),
        ("secmbus2018v1.csv", ("SECM", "BUS", 2018, 1, False, "csv", "")),
    ],
)
def test_parse_every_contract_name_form(filename, expected):
    name = parse_cbs_name(filename)
    assert isinstance(name, CbsName)
    assert name.filename == filename
    fields = (name.stem, name.kind, name.year, name.version, name.provisional, name.extension)
    assert (*fields, name.extra) == expected


@pytest.mark.parametrize(
    "filename",
    [
        "README.txt",
        "uitkeringen.csv",
        "GBAPERSOON2018TAB.sav",  # no version
        "GBAPERSOONTABV2.sav",  # no year
        "GBAPERSOON2018TABV2.xlsx",  # not a contract format
        "GBAPERSOON2018V2.sav",  # neither TAB nor BUS
        "GBAPERSOON2018TABV2.sav.bak",
    ],
)
def test_names_outside_the_contract_do_not_parse(filename):
    assert parse_cbs_name(filename) is None


# --- choosing versions ------------------------------------------------------------------------

SNAPSHOT = [
    "GBAPERSOON2018TABV1.sav",
    "GBAPERSOON2018TABV2.sav",
    "HOOGSTEOPL2015TABV3.sav",
    "HOOGSTEOPL2016TABV3.sav",
    "HOOGSTEOPL2017TABV3.sav",
    "VRLHOOGSTEOPL2016TABV4.sav",
    "VRLHOOGSTEOPL2018TABV1.sav",
    "SECMBUS2018V1.sav",
    "WANBZVW2015TABV1.csv",
    "VSLGWB2018TAB03V1.sav",
]


def choose_one(wanted: Wanted, names=SNAPSHOT, pins=None) -> str:
    return choose_files(names, [wanted], pins or {})[wanted.key]


def test_highest_version_wins():
    assert choose_one(Wanted("persons", "GBAPERSOON", 2018)) == "GBAPERSOON2018TABV2.sav"


def test_provisional_vrl_file_is_ignored_even_with_a_higher_version():
    assert choose_one(Wanted("edu", "HOOGSTEOPL", 2016)) == "HOOGSTEOPL2016TABV3.sav"


def test_only_a_vrl_file_is_an_error_that_says_so():
    with pytest.raises(InputError, match="HOOGSTEOPL2018.*only provisional VRL") as error:
        choose_one(Wanted("edu", "HOOGSTEOPL", 2018))
    assert "VRLHOOGSTEOPL2018TABV1.sav" in str(error.value)
    names = ["VRLMEDICIJN2015TABV1.sav"]
    with pytest.raises(InputError, match="MEDICIJN2015.*only provisional VRL"):
        choose_one(Wanted("drugs", "MEDICIJN", 2015), names=names)
    with pytest.raises(InputError, match="MEDICIJN.*latest.*only provisional VRL"):
        choose_one(Wanted("drugs", "MEDICIJN", "latest"), names=names)


def test_missing_stem_and_year_is_an_error_naming_them_and_what_was_found():
    with pytest.raises(InputError, match="WANBZVW2016.*WANBZVW2015TABV1.csv") as error:
        choose_one(Wanted("debt", "WANBZVW", 2016))
    assert "VRL" not in str(error.value)
    with pytest.raises(InputError, match="MEDICIJN2015.*no file of stem MEDICIJN"):
        choose_one(Wanted("drugs", "MEDICIJN", 2015))


def test_pin_overrides_the_highest_version_and_may_name_a_vrl_file():
    pins = {
        "GBAPERSOON2018": "GBAPERSOON2018TABV1.sav",
        "hoogsteopl2016": "VRLHOOGSTEOPL2016TABV4.sav",
    }
    chosen = choose_files(
        SNAPSHOT, [Wanted("persons", "GBAPERSOON", 2018), Wanted("edu", "HOOGSTEOPL", 2016)], pins
    )
    assert chosen == {"persons": "GBAPERSOON2018TABV1.sav", "edu": "VRLHOOGSTEOPL2016TABV4.sav"}


def test_pin_naming_an_absent_file_is_an_error():
    with pytest.raises(InputError, match="GBAPERSOON2018.*GBAPERSOON2018TABV3.sav.*not there"):
        choose_one(
            Wanted("persons", "GBAPERSOON", 2018),
            pins={"GBAPERSOON2018": "GBAPERSOON2018TABV3.sav"},
        )


def test_pin_naming_a_file_of_another_year_is_an_error():
    with pytest.raises(InputError, match="HOOGSTEOPL2016.*HOOGSTEOPL2015"):
        choose_one(
            Wanted("edu", "HOOGSTEOPL", 2016), pins={"HOOGSTEOPL2016": "HOOGSTEOPL2015TABV3.sav"}
        )


def test_same_version_in_two_formats_is_ambiguous():
    names = ["GBAPERSOON2018TABV1.sav", "GBAPERSOON2018TABV2.sav", "GBAPERSOON2018TABV2.csv"]
    with pytest.raises(InputError, match="GBAPERSOON2018.*V2.*ambiguous") as error:
        choose_one(Wanted("persons", "GBAPERSOON", 2018), names=names)
    assert "GBAPERSOON2018TABV2.sav" in str(error.value)
    assert "GBAPERSOON2018TABV2.csv" in str(error.value)


def test_ambiguity_is_resolved_by_a_pin():
    names = ["GBAPERSOON2018TABV2.sav", "GBAPERSOON2018TABV2.csv"]
    pins = {"GBAPERSOON2018": "GBAPERSOON2018TABV2.csv"}
    assert choose_one(Wanted("p", "GBAPERSOON", 2018), names, pins) == "GBAPERSOON2018TABV2.csv"


def test_latest_takes_the_highest_final_year_then_version():
    assert choose_one(Wanted("edu", "HOOGSTEOPL", "latest")) == "HOOGSTEOPL2017TABV3.sav"
    names = ["WANBZVW2016TABV1.sav", "WANBZVW2016TABV2.csv", "WANBZVW2015TABV9.sav"]
    assert choose_one(Wanted("debt", "WANBZVW", "latest"), names=names) == "WANBZVW2016TABV2.csv"


def test_latest_reaches_a_vrl_year_only_through_a_pin():
    pins = {"HOOGSTEOPL2018": "VRLHOOGSTEOPL2018TABV1.sav"}
    assert choose_one(Wanted("edu", "HOOGSTEOPL", "latest"), pins=pins) == (
        "VRLHOOGSTEOPL2018TABV1.sav"
    )


def test_spell_file_and_variant_names_are_found_by_their_stem():
    chosen = choose_files(
        SNAPSHOT, [Wanted("secm", "SECM", 2018), Wanted("regions", "VSLGWB", "latest")], {}
    )
    assert chosen == {"secm": "SECMBUS2018V1.sav", "regions": "VSLGWB2018TAB03V1.sav"}


def test_names_that_do_not_parse_are_reported_without_the_name(caplog):
    # a file name typed by hand may name a person: the log says a file was ignored, not which
    with caplog.at_level(logging.WARNING, logger="wwvw.ingest.cbs"):
        choose_files([*SNAPSHOT, "notes J. de Vries.txt"], [Wanted("secm", "SECM", 2018)], {})
    assert "whose name is not a CBS file name was ignored" in caplog.text
    assert "Vries" not in caplog.text


# --- converting -------------------------------------------------------------------------------


def test_sav_columns_match_case_insensitively_and_come_out_upper_case(tmp_path):
    source = write_sav(tmp_path / "VSLGWB2018TAB03V1.sav", people())
    out = tmp_path / "out.parquet"
    rows = convert_to_parquet(source, out, ["rinpersoon", "gem2015", "GEM2016"])
    table = read_back(out)
    assert rows == 10
    assert table.columns == ["RINPERSOON", "GEM2015", "GEM2016"]
    assert table["GEM2015"].to_list() == people()["Gem2015"].to_list()


def test_sav_strings_are_kept_exactly(tmp_path):
    source = write_sav(
        tmp_path / "x.sav", people(), missing_ranges={"HERKOMST": ["----"]}
    )  # CBS may declare unknown codes user-missing: they must survive as codes
    out = tmp_path / "out.parquet"
    convert_to_parquet(source, out, ["RINPERSOONS", "RINPERSOON", "PLHH", "HERKOMST"])
    table = read_back(out)
    assert table.schema == pl.Schema(dict.fromkeys(table.columns, pl.String))
    assert table["RINPERSOON"][0] == "000012345"
    assert table["PLHH"].to_list() == people()["PLHH"].to_list()  # " 2" keeps its space
    assert table["HERKOMST"].to_list() == people()["HERKOMST"].to_list()


def test_numeric_sav_column_comes_back_as_whole_number_strings(tmp_path):
    frame = pd.DataFrame({"JAAR": [2015.0, 2016.0, float("nan")], "AANDEEL": [2.5, 0.0, -1.0]})
    source = write_sav(tmp_path / "x.sav", frame)
    out = tmp_path / "out.parquet"
    convert_to_parquet(source, out, ["jaar", "aandeel"])
    table = read_back(out)
    assert table["JAAR"].to_list() == ["2015", "2016", None]
    assert table["AANDEEL"].to_list() == ["2.5", "0", "-1"]


def test_text_columns_are_the_sav_strings_among_those_read(tmp_path):
    frame = pd.DataFrame({"rinpersoon": ["000012345"], "Gem2015": ["0599"], "JAAR": [2015.0]})
    source = write_sav(tmp_path / "x.sav", frame)
    assert text_columns(source, ["RINPERSOON", "jaar", "GEM2015"]) == ["RINPERSOON", "GEM2015"]
    csv = tmp_path / "x.csv"
    csv.write_text("RINPERSOON;JAAR\n000012345;2015\n")
    assert text_columns(csv, ["RINPERSOON", "JAAR"]) == []


@pytest.mark.parametrize("reader", ["auto", "pyreadstat"])
def test_a_key_cut_at_a_bad_byte_stops_ingest_instead_of_being_padded(tmp_path, reader):
    """A byte that is not valid UTF-8 inside RINPERSOON: polars-readstat cuts the string there
    ("1234"), and padding it would make a real-looking key of someone else ("000001234");
    pyreadstat stops at the byte. Either way the file is refused, naming the file, and nothing is
    written."""
    frame = people(3)
    frame.loc[1, "RINPERSOON"] = "1234Q6789"
    source = write_sav(tmp_path / "GBAPERSOON2018TABV2.sav", frame)
    data = source.read_bytes()
    assert data.count(b"1234Q6789") == 1
    source.write_bytes(data.replace(b"1234Q6789", b"1234\xff6789"))
    out, log = tmp_path / "persons.parquet", tmp_path / "ingest.log"
    command = [sys.executable, str(SCRIPT), str(source), str(out), "--log", str(log)]
    result = subprocess.run(
        [*command, "--columns", "RINPERSOONS", "RINPERSOON", "--sav-reader", reader],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    text = log.read_text()
    assert source.name in text
    if reader == "auto":  # polars-readstat read it; validation names column and row
        assert "column RINPERSOON" in text and "cut short" in text and "data row 2" in text
    assert not out.exists()


def test_sav_date_column_comes_back_as_yyyymmdd(tmp_path):
    frame = pd.DataFrame({"DATUM": [datetime.date(2015, 1, 31), None]})
    source = write_sav(tmp_path / "x.sav", frame)
    convert_to_parquet(source, tmp_path / "out.parquet", ["DATUM"])
    assert read_back(tmp_path / "out.parquet")["DATUM"].to_list() == ["20150131", None]


def mixed_types(n: int = 2500) -> pd.DataFrame:
    """Every kind of SPSS column a CBS file may hold, with the awkward values of each."""
    return pd.DataFrame(
        {
            "CODE": [["0599", " 2", "", "----", "é€"][i % 5] for i in range(n)],
            "LANG": [("x" * 300 if i % 7 == 0 else f"{i:09d}") for i in range(n)],
            "GETAL": [[2015.0, 2.5, float("nan"), -1.0, 1e15 + 1][i % 5] for i in range(n)],
            "DATUM": [datetime.date(2015, 1, 1) + datetime.timedelta(days=i) for i in range(n)],
        }
    )


@pytest.mark.parametrize(
    "compression",
    [{}, {"row_compress": True}, {"compress": True}],
    ids=["plain", "bytecode", "zsav"],
)
def test_both_sav_readers_write_the_same_table(tmp_path, compression, caplog):
    # A user-missing declaration on a read column sends the file to pyreadstat; declaring a value
    # that never occurs changes nothing else, so both readers must give identical Parquet.
    frame = mixed_types()
    fast = write_sav(tmp_path / "fast.sav", frame, **compression)
    slow = write_sav(tmp_path / "slow.sav", frame, missing_ranges={"CODE": ["zzzz"]}, **compression)
    columns = list(frame.columns)
    with caplog.at_level(logging.INFO, logger="wwvw.ingest.cbs"):
        assert convert_to_parquet(fast, tmp_path / "fast.parquet", columns, chunk_rows=1000) == 2500
        assert convert_to_parquet(slow, tmp_path / "slow.parquet", columns, chunk_rows=1000) == 2500
        convert_to_parquet(
            fast, tmp_path / "chosen.parquet", columns, chunk_rows=1000, sav_reader="pyreadstat"
        )
    assert [record.getMessage().split(": ")[1] for record in caplog.records] == [
        "reading with polars-readstat",
        "reading with pyreadstat (user-missing values declared on CODE)",
        "reading with pyreadstat (config cbs.sav_reader)",
    ]
    table = read_back(tmp_path / "fast.parquet")
    assert table.equals(read_back(tmp_path / "slow.parquet"))
    assert table.equals(read_back(tmp_path / "chosen.parquet"))
    assert table.row(2) == ("", "000000002", None, "20150103")
    assert table["LANG"][0] == "x" * 300
    assert table["CODE"][4] == "é€"
    assert pq.ParquetFile(tmp_path / "fast.parquet").metadata.num_row_groups == 3


def test_date_times_go_to_pyreadstat_and_keep_their_fraction_of_a_second(tmp_path, caplog):
    # polars-readstat drops the fraction of a second of a DATETIME value
    moment = datetime.datetime(2015, 1, 31, 12, 30, 1, 250000)
    source = write_sav(tmp_path / "x.sav", pd.DataFrame({"TIJDSTIP": [moment, None]}))
    with caplog.at_level(logging.INFO, logger="wwvw.ingest.cbs"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["TIJDSTIP"])
    assert "pyreadstat (time or date-time format on TIJDSTIP)" in caplog.text
    text = read_back(tmp_path / "out.parquet")["TIJDSTIP"].to_list()
    assert text == ["2015-01-31 12:30:01.250000", None]


def sav_header(**fields) -> SimpleNamespace:
    """pyreadstat's header metadata of a plain UTF-8 file of strings, with `fields` changed."""
    header = {
        "missing_ranges": {},
        "original_variable_types": {"RINPERSOON": "A9", "DATUM": "A8"},
        "number_rows": 10,
        "file_encoding": "UTF-8",
    }
    return SimpleNamespace(**(header | fields))


@pytest.mark.parametrize(
    "fields,reason",
    [
        ({}, None),
        ({"file_encoding": "WINDOWS-1252"}, None),
        ({"missing_ranges": {"DATUM": [{"lo": "-", "hi": "-"}]}}, "declared on DATUM"),
        ({"missing_ranges": {"ANDER": [{"lo": "-", "hi": "-"}]}}, None),  # a column not read
        ({"original_variable_types": {"RINPERSOON": "A9", "DATUM": "DATETIME20"}}, "DATUM"),
        ({"original_variable_types": {"RINPERSOON": "A9", "DATUM": "DTIME11"}}, "DATUM"),
        ({"original_variable_types": {"RINPERSOON": "A9", "DATUM": "DATE11"}}, None),
        ({"number_rows": None}, "number of rows"),
        ({"file_encoding": "IBM850"}, "encoding IBM850"),
        ({"file_encoding": None}, "encoding not stated"),
    ],
)
def test_what_sends_a_sav_file_to_pyreadstat(fields, reason):
    reasons = pyreadstat_reasons(sav_header(**fields), ["RINPERSOON", "DATUM"])
    if reason is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and reason in reasons[0]
    assert pyreadstat_reasons(sav_header(), ["RINPERSOON"], "pyreadstat") == [
        "config cbs.sav_reader"
    ]


def test_an_unknown_sav_reader_is_refused(tmp_path):
    source = write_sav(tmp_path / "x.sav", people(3))
    with pytest.raises(ValueError, match="sav_reader"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["RINPERSOON"], sav_reader="haven")


def test_only_declarations_on_the_columns_read_choose_the_slower_reader():
    declared = {"HERKOMST": [{"lo": "----", "hi": "----"}], "GETAL": [{"lo": 9, "hi": 9}]}
    assert declares_user_missing(declared, ["RINPERSOON", "HERKOMST"]) == ["HERKOMST"]
    assert declares_user_missing(declared, ["RINPERSOON"]) == []
    assert declares_user_missing({"HERKOMST": []}, ["HERKOMST"]) == []


@pytest.mark.parametrize(
    "compression",
    [{}, {"row_compress": True}, {"compress": True}],
    ids=["plain", "bytecode", "zsav"],
)
def test_chunked_sav_conversion_gives_the_same_table(tmp_path, compression):
    source = write_sav(tmp_path / "x.sav", people(10), **compression)
    columns = ["RINPERSOONS", "RINPERSOON", "PLHH"]
    convert_to_parquet(source, tmp_path / "whole.parquet", columns)
    rows = convert_to_parquet(source, tmp_path / "chunks.parquet", columns, chunk_rows=3)
    assert rows == 10
    assert read_back(tmp_path / "chunks.parquet").equals(read_back(tmp_path / "whole.parquet"))
    assert pq.ParquetFile(tmp_path / "chunks.parquet").metadata.num_row_groups == 4


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_with_either_separator_reads_as_strings(tmp_path, separator):
    lines = ["RINPERSOONS,RINPERSOON,Gem2015,PLHH", "R,000012345,0599, 2", "R,000000001,,10"]
    source = tmp_path / "x.csv"
    source.write_text("\n".join(line.replace(",", separator) for line in lines) + "\n")
    out = tmp_path / "out.parquet"
    assert convert_to_parquet(source, out, ["rinpersoon", "GEM2015", "plhh"]) == 2
    assert read_back(out).to_dict(as_series=False) == {
        "RINPERSOON": ["000012345", "000000001"],
        "GEM2015": ["0599", ""],  # an empty field is "", as an empty SPSS string
        "PLHH": [" 2", "10"],
    }


def test_csv_unnamed_index_column_and_bom_are_dropped(tmp_path):
    source = tmp_path / "WANBZVW2015TABV1.csv"
    source.write_bytes("\ufeff;RINPERSOONS;RINPERSOON\n0;R;000012345\n1;R;000000007\n".encode())
    out = tmp_path / "out.parquet"
    convert_to_parquet(source, out, ["RINPERSOONS", "RINPERSOON"])
    assert read_back(out).to_dict(as_series=False) == {
        "RINPERSOONS": ["R", "R"],
        "RINPERSOON": ["000012345", "000000007"],
    }


def test_csv_rows_with_a_field_too_many_or_too_few_are_refused_by_row(tmp_path):
    # polars reads only the requested columns: "R;510;877278" would give RINPERSOON 510 quietly
    source = tmp_path / "WANBZVW2015TABV1.csv"
    lines = [";RINPERSOONS;RINPERSOON", "0;R;385082161", "1;R;510;877278", "2;R;385082168", "3;R"]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(InputError, match="WANBZVW2015TABV1.csv: rows that do not") as error:
        convert_to_parquet(source, out, ["RINPERSOONS", "RINPERSOON"])
    message = str(error.value)
    assert "too many columns: 1 row(s), data row 2" in message
    assert "missing columns: 1 row(s), data row 4" in message
    assert "877278" not in message and "385082161" not in message
    assert not out.exists()


def test_a_wholly_ragged_csv_records_a_bounded_number_of_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "CSV_REJECTS_KEPT", 3)
    source = tmp_path / "WANBZVW2015TABV1.csv"
    source.write_text(";RINPERSOONS;RINPERSOON\n" + "".join(f"{i};R;1;2\n" for i in range(10)))
    with pytest.raises(InputError, match=r"3 row\(s\).*the first 3 found; there may be more"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["RINPERSOONS", "RINPERSOON"])


def test_parquet_columns_are_cast_to_strings(tmp_path):
    source = tmp_path / "MEDICIJN2015TABV1.parquet"
    pl.DataFrame(
        {"rinpersoon": ["000012345", "000000002"], "Atc4": ["N06A", "A10B"], "JAAR": [2015.0, 2.5]}
    ).write_parquet(source)
    out = tmp_path / "out.parquet"
    convert_to_parquet(source, out, ["RINPERSOON", "ATC4", "jaar"])
    assert read_back(out).to_dict(as_series=False) == {
        "RINPERSOON": ["000012345", "000000002"],
        "ATC4": ["N06A", "A10B"],
        "JAAR": ["2015", "2.5"],
    }


@pytest.mark.parametrize("extension", ["sav", "csv", "parquet"])
def test_missing_column_error_names_file_and_column_and_lists_the_columns(tmp_path, extension):
    source = tmp_path / f"GBAPERSOON2018TABV2.{extension}"
    frame = people(3)[["RINPERSOONS", "RINPERSOON"]]
    if extension == "sav":
        write_sav(source, frame)
    elif extension == "csv":
        frame.to_csv(source, index=False)
    else:
        pl.from_pandas(frame).write_parquet(source)
    out = tmp_path / "out.parquet"
    with pytest.raises(InputError, match="GBAHERKOMSTGROEPERING") as error:
        convert_to_parquet(source, out, ["RINPERSOON", "GBAHERKOMSTGROEPERING"])
    message = str(error.value)
    assert source.name in message
    assert "RINPERSOONS, RINPERSOON" in message
    assert list(tmp_path.iterdir()) == [source]


@pytest.mark.parametrize("rows", [10, 2000])
def test_truncated_sav_is_an_input_error_and_leaves_no_output(tmp_path, rows):
    whole = write_sav(tmp_path / "whole.sav", people(rows))
    source = tmp_path / "SECMBUS2018V1.sav"
    raw = whole.read_bytes()
    source.write_bytes(raw[: len(raw) // 2])
    whole.unlink()
    out = tmp_path / "out.parquet"
    with pytest.raises(InputError, match="SECMBUS2018V1.sav") as error:
        convert_to_parquet(source, out, ["RINPERSOON"], chunk_rows=100)
    assert "000012345" not in str(error.value)
    assert list(tmp_path.iterdir()) == [source]


@pytest.mark.parametrize("extension", ["sav", "csv", "parquet"])
def test_empty_file_is_an_input_error_and_leaves_no_output(tmp_path, extension):
    source = tmp_path / f"WANBZVW2015TABV1.{extension}"
    source.write_bytes(b"")
    with pytest.raises(InputError, match=f"WANBZVW2015TABV1.{extension}.*empty"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["RINPERSOON"])
    assert list(tmp_path.iterdir()) == [source]


def test_file_with_a_header_and_no_rows_is_an_input_error(tmp_path):
    source = tmp_path / "WANBZVW2015TABV1.csv"
    source.write_text("RINPERSOONS;RINPERSOON\n")
    with pytest.raises(InputError, match="WANBZVW2015TABV1.csv.*no rows"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["RINPERSOON"])
    assert list(tmp_path.iterdir()) == [source]


def test_unreadable_parquet_is_an_input_error(tmp_path):
    source = tmp_path / "MEDICIJN2015TABV1.parquet"
    source.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError, match="MEDICIJN2015TABV1.parquet"):
        convert_to_parquet(source, tmp_path / "out.parquet", ["RINPERSOON"])
    assert list(tmp_path.iterdir()) == [source]


@pytest.mark.skipif(not SYNTHETIC_SECM.exists(), reason="no synthetic snapshot in resources/")
def test_synthetic_secm_file_converts_completely(tmp_path):
    columns = ["RINPERSOONS", "RINPERSOON", "AANVSECM", "EINDSECM", "SECM"]
    out = tmp_path / "secm.parquet"
    rows = convert_to_parquet(SYNTHETIC_SECM, out, columns)
    _, meta = pyreadstat.read_sav(SYNTHETIC_SECM, metadataonly=True)
    assert rows == meta.number_rows == pq.ParquetFile(out).metadata.num_rows
    schema = pl.read_parquet_schema(out)
    assert schema == dict.fromkeys(columns, pl.String)
    lengths = pl.scan_parquet(out).select(pl.col("RINPERSOON").str.len_bytes().unique()).collect()
    assert lengths.to_series().to_list() == [9]


# --- the rule script --------------------------------------------------------------------------


def test_rule_script_from_the_command_line_logs_counts_not_values(tmp_path):
    source = write_sav(tmp_path / "GBAPERSOON2018TABV2.sav", people())
    out, log = tmp_path / "out" / "persons.parquet", tmp_path / "ingest.log"
    command = [sys.executable, str(SCRIPT), str(source), str(out), "--log", str(log)]
    result = subprocess.run(
        [*command, "--columns", "RINPERSOONS", "rinpersoon", "--chunk-rows", "4"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    text = log.read_text()
    assert source.name in text and "10 rows" in text
    assert "000012345" not in text
    assert read_back(out).columns == ["RINPERSOONS", "RINPERSOON"]


def test_rule_script_fails_with_the_input_error_in_the_log(tmp_path):
    source = write_sav(tmp_path / "GBAPERSOON2018TABV2.sav", people())
    out, log = tmp_path / "persons.parquet", tmp_path / "ingest.log"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(source),
            str(out),
            "--columns",
            "NOPE",
            "--log",
            str(log),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "NOPE" in log.read_text()
    assert not out.exists()


def test_rule_script_under_snakemake_reads_input_output_params_and_log(tmp_path):
    source = write_sav(tmp_path / "GBAPERSOON2018TABV2.sav", people())
    out, log = tmp_path / "persons.parquet", tmp_path / "ingest.log"
    snakemake = SimpleNamespace(
        input=[str(source)],
        output=[str(out)],
        params=SimpleNamespace(columns=["RINPERSOON", "gem2015"], chunk_rows=3),
        log=[str(log)],
    )
    runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake}, run_name="__main__")
    assert read_back(out).columns == ["RINPERSOON", "GEM2015"]
    assert "10 rows" in log.read_text()


def test_a_register_year_not_delivered_is_stood_in_for_by_the_nearest_earlier_year(caplog):
    lagging = [n for n in SNAPSHOT if n != "HOOGSTEOPL2017TABV3.sav"]
    wanted = [Wanted("education_2017", "HOOGSTEOPL", 2017)]
    with caplog.at_level(logging.WARNING, logger="wwvw.ingest.cbs"):
        chosen = choose_files(lagging, wanted, {}, missing_years="earlier")
    assert chosen == {"education_2017": "HOOGSTEOPL2016TABV3.sav"}
    assert "HOOGSTEOPL2017: no file delivered; the 2016 file stands in" in caplog.text
    with pytest.raises(InputError, match="HOOGSTEOPL2017: no file found"):
        choose_files(lagging, wanted, {}, missing_years="strict")
    # a year delivered only as a provisional VRL file is not stood in for: pin it or remove it
    vrl_only = [*lagging, "VRLHOOGSTEOPL2017TABV1.sav"]
    with pytest.raises(InputError, match="only provisional VRL"):
        choose_files(vrl_only, wanted, {}, missing_years="earlier")
    # nothing earlier either: the message says so
    with pytest.raises(InputError, match="HOOGSTEOPL2014: no file found"):
        choose_files(lagging, [Wanted("education_2014", "HOOGSTEOPL", 2014)], {})


def test_a_stand_in_file_is_recorded_in_the_validation_report(caplog):
    import ingest_cbs
    from wwvw.ingest import validation

    outcome = validation.Outcome("HOOGSTEOPL2016TABV3.sav")
    name = parse_cbs_name("HOOGSTEOPL2016TABV3.sav")
    log = logging.getLogger("wwvw.test")
    ingest_cbs.record_stand_in(outcome, name, 2016, log)
    assert outcome.report == []
    ingest_cbs.record_stand_in(outcome, name, 2017, log)
    assert [r["check"] for r in outcome.report] == ["register_year_fallback"]
    assert outcome.report[0]["action"] == validation.ACCEPT
