"""The streaming SPSS writer: pyreadstat reads back what it wrote, labels and widths included."""

import hashlib

import polars as pl
import pyreadstat
import pytest
from wwvw.synthetic import writers
from wwvw.synthetic.writers import CsvWriter, ParquetWriter, SavWriter

WIDTHS = {"RINPERSOONS": 1, "RINPERSOON": 9, "SECM": 2, "EINDSECM": 8}


def block(start, n):
    return pl.DataFrame(
        {
            "RINPERSOONS": ["R"] * n,
            "RINPERSOON": [f"{i:09d}" for i in range(start, start + n)],
            "SECM": [" 4" if i % 2 else "22" for i in range(n)],
            "EINDSECM": ["" if i % 3 else "88888888" for i in range(n)],
        }
    )


def test_sav_round_trip_in_blocks(tmp_path):
    path = tmp_path / "x.sav"
    writer = SavWriter(
        path, WIDTHS, column_labels={"SECM": "Categorie"}, value_labels={"SECM": {"22": "Bijstand"}}
    )
    for start in (0, 1000, 2500):
        writer.write(block(start, 1000 if start < 2500 else 7))
    writer.close()
    frame, meta = pyreadstat.read_sav(path)
    expected = pl.concat([block(0, 1000), block(1000, 1000), block(2500, 7)])
    assert pl.from_pandas(frame).equals(expected)
    assert meta.number_rows == 2007
    assert meta.original_variable_types == {
        "RINPERSOONS": "A1",
        "RINPERSOON": "A9",
        "SECM": "A2",
        "EINDSECM": "A8",
    }
    assert meta.variable_value_labels == {"SECM": {"22": "Bijstand"}}
    assert meta.column_names_to_labels["SECM"] == "Categorie"


def test_sav_bytes_do_not_depend_on_how_many_cases_are_joined_at_once(tmp_path, monkeypatch):
    digests = []
    for name, per_write in (("whole.sav", 100_000), ("pieces.sav", 7)):
        monkeypatch.setattr(writers, "CASES_PER_WRITE", per_write)
        writer = SavWriter(tmp_path / name, WIDTHS)
        writer.write(block(0, 50))
        writer.close()
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    assert pl.from_pandas(pyreadstat.read_sav(tmp_path / "pieces.sav")[0]).equals(block(0, 50))


def test_sav_bytes_are_reproducible(tmp_path):
    digests = []
    for name in ("a.sav", "b.sav"):
        writer = SavWriter(tmp_path / name, WIDTHS)
        writer.write(block(0, 10))
        writer.close()
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_sav_refuses_values_wider_than_the_variable(tmp_path):
    writer = SavWriter(tmp_path / "x.sav", {"RINPERSOON": 9})
    with pytest.raises(ValueError, match="RINPERSOON wider than 9"):
        writer.write(pl.DataFrame({"RINPERSOON": ["1234567890"]}))


def test_sav_refuses_a_string_that_is_not_ascii(tmp_path):
    # padding counts characters: an é (two bytes) would shift every later case by one byte
    writer = SavWriter(tmp_path / "x.sav", {"GEM": 4})
    with pytest.raises(ValueError, match="x.sav: a string that is not ASCII"):
        writer.write(pl.DataFrame({"GEM": ["abé"]}))


def test_sav_writes_an_empty_block_as_no_cases(tmp_path):
    writer = SavWriter(tmp_path / "x.sav", WIDTHS)
    writer.write(block(0, 0))
    writer.write(block(0, 2))
    writer.close()
    frame, meta = pyreadstat.read_sav(tmp_path / "x.sav")
    assert meta.number_rows == 2 and pl.from_pandas(frame).equals(block(0, 2))


def test_csv_and_parquet_copies(tmp_path):
    for cls, name in ((CsvWriter, "x.csv"), (ParquetWriter, "x.parquet")):
        writer = cls(tmp_path / name, WIDTHS)
        writer.write(block(0, 3))
        writer.write(block(3, 2))
        writer.close()
    csv = pl.read_csv(tmp_path / "x.csv", separator=";", infer_schema=False)
    assert csv.columns[0] == "" and csv[""].to_list() == ["0", "1", "2", "3", "4"]
    assert csv["SECM"].to_list()[1] == " 4"
    assert pl.read_parquet(tmp_path / "x.parquet").equals(pl.concat([block(0, 3), block(3, 2)]))
