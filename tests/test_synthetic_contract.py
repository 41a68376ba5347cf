"""The synthetic snapshot read back against the input contract (../shared/contract/README.md)."""

import re

import polars as pl
import pyreadstat
import pytest
from wwvw.synthetic.layout import CBS_FILES, MUNICIPAL_FILES, TABLES, snapshot_files

SECM_CODES = {"11", "12", "13", "14", "15", "21", "22", "23", "24", "25", "26", "31", "32"}
SENTINELS = {"20181231", "20501231", "20991231", "88888888", "99991231", ""}
DATE = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")


def read_cbs(path):
    if path.suffix == ".sav":
        frame, meta = pyreadstat.read_sav(path)
        return pl.from_pandas(frame), meta
    if path.suffix == ".csv":
        return pl.read_csv(path, separator=";", infer_schema=False), None
    return pl.read_parquet(path), None


def test_every_contract_file_is_written(synthetic_dir):
    missing = [f for f in snapshot_files() if not (synthetic_dir / f).is_file()]
    assert not missing


@pytest.mark.parametrize("name", [n for n in CBS_FILES if n.endswith(".sav")])
def test_sav_files_have_contract_columns_string_widths_and_labels(synthetic_dir, name):
    _, meta = pyreadstat.read_sav(synthetic_dir / "cbs" / name, metadataonly=True)
    spec = TABLES[CBS_FILES[name]]
    assert meta.column_names == list(spec["widths"])
    assert meta.original_variable_types == {c: f"A{w}" for c, w in spec["widths"].items()}
    for column, labels in spec["values"].items():
        assert meta.variable_value_labels[column] == labels


def test_converted_copies_read_as_strings(synthetic_dir):
    csv = (synthetic_dir / "cbs" / "WANBZVW2015TABV1.csv").read_text().splitlines()
    assert csv[0] == ";RINPERSOONS;RINPERSOON"  # an unnamed index column, ';' delimiter
    parquet = pl.read_parquet(synthetic_dir / "cbs" / "MEDICIJN2015TABV1.parquet")
    assert parquet.columns == ["RINPERSOONS", "RINPERSOON", "ATC4"]
    assert all(dtype == pl.String for dtype in parquet.dtypes)


def test_person_keys_are_nine_digit_strings(synthetic_dir):
    people, _ = read_cbs(synthetic_dir / "cbs" / "GBAPERSOON2018TABV2.sav")
    assert people["RINPERSOON"].str.contains(r"^\d{9}$").all()
    assert set(people["RINPERSOONS"].unique()) == {"R", "S"}  # S: same number, other register
    assert people.select("RINPERSOONS", "RINPERSOON").is_unique().all()
    assert people["RINPERSOON"].str.starts_with("0").any()  # zero padding matters


def test_secmbus_codes_dates_and_spells(synthetic_dir):
    spells, _ = read_cbs(synthetic_dir / "cbs" / "SECMBUS2018V1.sav")
    assert set(spells["SECM"].unique()) <= SECM_CODES
    assert spells["AANVSECM"].str.contains(DATE.pattern).all()
    ends = spells["EINDSECM"]
    assert (ends.str.contains(DATE.pattern) | ends.is_in(list(SENTINELS))).all()
    assert set(ends.filter(~ends.str.contains(r"^20(1\d)")).unique()) >= {
        "88888888",
        "99991231",
        "",
    }
    # one person's spells never overlap: each starts after the previous one ended
    ordered = spells.with_columns(
        pl.col("EINDSECM").shift().over("RINPERSOON", order_by="AANVSECM").alias("previous_end")
    ).filter(pl.col("previous_end").is_not_null())
    assert (ordered["AANVSECM"] > ordered["previous_end"]).all()


def test_household_codes_carry_leading_spaces(synthetic_dir):
    households, _ = read_cbs(synthetic_dir / "cbs" / "GBAHUISHOUDENS2018BUSV1.sav")
    assert " 2" in set(households["PLHH"]) and "10" not in set(households["TYPHH"])


def test_municipality_columns_in_mixed_case(synthetic_dir):
    _, meta = pyreadstat.read_sav(
        synthetic_dir / "cbs" / "VSLGWB2018TAB03V1.sav", metadataonly=True
    )
    assert "Gem2015" in meta.column_names and "gem2016" in meta.column_names


def test_newer_version_differs_from_older_and_provisional_file_exists(synthetic_dir):
    v1, _ = read_cbs(synthetic_dir / "cbs" / "GBAPERSOON2018TABV1.sav")
    v2, _ = read_cbs(synthetic_dir / "cbs" / "GBAPERSOON2018TABV2.sav")
    assert v1.height == v2.height and not v1.equals(v2)
    assert (synthetic_dir / "cbs" / "VRLHOOGSTEOPL2016TABV4.sav").exists()


def read_municipal(synthetic_dir, name):
    encoding = MUNICIPAL_FILES[name]
    text = (synthetic_dir / "municipal" / name).read_bytes().decode(encoding)
    frame = pl.read_csv(text.encode(), separator=";", infer_schema=False)
    return frame.with_columns(pl.all().fill_null(""))


def test_municipal_encodings(synthetic_dir):
    raw = {n: (synthetic_dir / "municipal" / n).read_bytes() for n in MUNICIPAL_FILES}
    assert raw["uitkeringen.csv"].startswith(b"\xef\xbb\xbf")
    assert not raw["werkintake.csv"].startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw["interventies.csv"].decode("utf-8")


def test_municipal_mess_is_there(synthetic_dir):
    benefits = read_municipal(synthetic_dir, "uitkeringen.csv")
    assert benefits.columns == [
        "RINPERSOONS",
        "RINPERSOON",
        "REGELING",
        "DATUM_AANVANG",
        "DATUM_EINDE",
    ]
    starts = benefits["DATUM_AANVANG"]
    assert starts.str.contains(r"^\d{4}-\d{2}-\d{2}$").any()
    assert starts.str.contains(r"^\d{2}-\d{2}-\d{4}$").any()
    assert starts.str.contains(r"^\d-\d{1,2}-\d{4}$").any()
    assert set(benefits["DATUM_EINDE"].unique()) >= {"", "NULL", "-", "onbekend"}
    assert benefits.is_duplicated().sum() > 0
    assert (benefits["RINPERSOON"] == "").sum() > 0
    assert set(benefits["REGELING"].str.strip_chars().str.to_uppercase()) >= {
        "PW",
        "IOAW",
        "IOAZ",
        "BBZ",
    }

    intakes = read_municipal(synthetic_dir, "werkintake.csv")
    departments = intakes["AFDELING"].unique().to_list()
    for canonical in ("matching", "prematching", "activering"):
        variants = [
            d for d in departments if canonical in d.lower().replace("-", "").replace(" ", "")
        ]
        assert len(variants) >= 3, canonical
    assert intakes.group_by("RINPERSOON").len()["len"].max() > 1  # clients with several intakes

    interventions = read_municipal(synthetic_dir, "interventies.csv")
    assert interventions["INTERVENTIE"].n_unique() > 100
    assert interventions["INTERVENTIE"].str.contains(r"^RE-\d{2} ").any()  # local code prefixes


def test_older_secmbus_delivery_closes_open_spells_at_its_coverage_end(synthetic_dir):
    old, _ = read_cbs(synthetic_dir / "cbs" / "SECMBUS2017V1.sav")
    new, _ = read_cbs(synthetic_dir / "cbs" / "SECMBUS2018V1.sav")
    assert old["EINDSECM"].max() == "20171231"
    assert not old["EINDSECM"].is_in(["", "88888888", "99991231", "20501231", "20991231"]).any()
    # a spell that the old delivery ends on its last covered day goes on in the new one
    continued = old.filter(pl.col("EINDSECM") == "20171231").join(
        new, on=["RINPERSOON", "AANVSECM", "SECM"], suffix="_new"
    )
    assert (continued["EINDSECM_new"] != "20171231").mean() > 0.5
