"""Validation and privacy guard on small hand-made inputs: repairs, errors, messages."""

import logging

import duckdb
import polars as pl
import pytest
from wwvw.core.errors import DeliveryError, example_rows, exit_on_delivery_error
from wwvw.ingest.cbs import InputError
from wwvw.ingest.municipal import EXTRACTS, ROW, ExtractError, clean_extract
from wwvw.ingest.privacy import (
    PrivacyError,
    bsn_like_rows,
    check_column_names,
    check_municipal_values,
    check_results,
    identifier_kind,
    passes_eleven_test,
)
from wwvw.ingest.tables import cbs_tables
from wwvw.ingest.validation import (
    CBS_COLUMNS,
    CBS_TABLES,
    PERSON_PACKING_ERROR,
    Outcome,
    ValidationError,
    _check_spells,
    _connect,
    validate_cbs,
    validate_extract,
)

VALID_BSN = "111222333"  # 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66 = 6*11


def write(tmp_path, frame: pl.DataFrame, name="converted.parquet"):
    path = tmp_path / name
    frame.write_parquet(path)
    return path


def secm(**columns) -> pl.DataFrame:
    base = {
        "RINPERSOONS": ["R", "R", "R"],
        "RINPERSOON": ["000000001", "000000001", "000000002"],
        "AANVSECM": ["20150101", "20150301", "20150101"],
        "EINDSECM": ["20150228", "", "99991231"],
        "SECM": ["11", "22", "32"],
    }
    return pl.DataFrame({**base, **columns})


# --- errors ---------------------------------------------------------------------------------------


def test_example_rows_lists_at_most_five():
    assert example_rows([3]) == "data row 3"
    assert example_rows([1, 2]) == "data rows 1 and 2"
    assert example_rows(list(range(1, 9))) == "data rows 1, 2, 3, 4 and 5 (first 5 of 8)"


def test_delivery_errors_share_one_base_class():
    for error in (InputError, ExtractError, ValidationError, PrivacyError):
        assert issubclass(error, DeliveryError)


def test_a_delivery_error_ends_the_script_with_status_1_and_the_message(caplog):
    log = logging.getLogger("wwvw.test")
    with pytest.raises(SystemExit) as stopped, exit_on_delivery_error(log):
        raise ValidationError("x.sav: column SECM: bad")
    assert stopped.value.code == 1
    assert "x.sav: column SECM: bad" in caplog.text


# --- privacy: names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    ["BSN", "bsn_nummer", "Burgerservicenummer", "clientBsn", "NAAM", "Naam client",
     "CLIENTNAAM", "achternaam", "VoorNaam", "first_name", "ADRES", "Straat", "huisnummer",
     "email", "BSNNUMMER", "BSNNR", "Bsnnummer", "BSN_NR", "Burgerservicenr", "Volledige naam",
     "VOLLEDIGE_NAAM", "Persoonsnaam", "Naam partner", "Meisjesnaam", "Geboortenaam"],
)  # fmt: skip
def test_identifier_like_column_names_are_refused(column):
    assert identifier_kind(column, municipal=True) is not None
    with pytest.raises(PrivacyError, match=rf"x\.csv: refused.*column '{column}' \(column 2\)"):
        check_column_names("x.csv", ["RINPERSOON", column], municipal=True)


@pytest.mark.parametrize(
    "column",
    ["LOCATIE_NAAM", "INTERVENTIENAAM", "GEBOORTEJAAR", "GBAGEBOORTEMAAND", "POSTCODE",
     "AANTALKINDHH", "KIND_AANTAL", "JOBSNELHEID", "WERKCONSULENT"],
)  # fmt: skip
def test_ordinary_column_names_pass(column):
    assert identifier_kind(column, municipal=True) is None


def test_every_contract_column_passes_the_guard():
    cbs = {c for t in cbs_tables({"study_start": "2015", "study_end": "2017"}) for c in t.columns}
    municipal = {c for spec in EXTRACTS.values() for c in spec["columns"]}
    check_column_names("cbs", sorted(cbs | set(CBS_COLUMNS)), municipal=False)
    check_column_names("municipal", sorted(municipal), municipal=True)


def test_birth_date_is_refused_in_municipal_files_only():
    assert identifier_kind("Geboortedatum", municipal=True) is not None
    assert identifier_kind("Geboortedatum", municipal=False) is None


def test_postcode_counts_next_to_a_house_number_column():
    assert identifier_kind("POSTCODE", False, ["POSTCODE", "HUISNR"]) is not None


# --- privacy: values ------------------------------------------------------------------------------


def test_eleven_test():
    digits = pl.Series([VALID_BSN, "123456789", "000000000"])
    assert pl.select(passes_eleven_test(pl.lit(digits))).to_series().to_list() == [
        True,
        False,
        False,
    ]


def test_bsn_like_numbers_are_found_only_as_whole_nine_digit_runs():
    text = pl.Series([f"ref {VALID_BSN}", f"{VALID_BSN}4", "2015-01-01", None, "123456789"])
    assert bsn_like_rows(text) == [0]


def test_a_bsn_printed_in_groups_is_found_too():
    text = pl.Series(["1112.22.333", "tel 1112 22 333", "1112.22.3334", "2015.01.012", None])
    assert bsn_like_rows(text) == [0, 1]


def test_bsn_in_a_municipal_column_is_refused_without_the_value():
    frame = pl.DataFrame({"RINPERSOON": [VALID_BSN, ""], "INTERVENTIE": ["a", f"x {VALID_BSN}"]})
    with pytest.raises(PrivacyError, match="'INTERVENTIE'.*data row 2") as error:
        check_municipal_values("interventies.csv", frame)
    assert VALID_BSN not in str(error.value)


def test_postcode_with_house_number_is_refused_postcode_alone_passes():
    check_municipal_values("u.csv", pl.DataFrame({"POSTCODE": ["3011 AB", "3012CD"]}))
    with pytest.raises(PrivacyError, match="postcode with a house number in data row 2"):
        check_municipal_values("u.csv", pl.DataFrame({"POSTCODE": ["3011 AB", "3012CD 14"]}))


def test_result_scan_finds_a_rin_and_passes_a_table(tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("characteristic,n\nwoman,120\nman,130\n")
    check_results([table])
    leak = tmp_path / "leak.csv"
    leak.write_text("characteristic,n\nwoman,000012345\nman,130\n")
    with pytest.raises(PrivacyError, match="leak.csv"):
        check_results([leak])


# --- CBS validation -------------------------------------------------------------------------------


def test_clean_table_is_moved_into_place_unchanged(tmp_path):
    converted, out = write(tmp_path, secm()), tmp_path / "out.parquet"
    outcome = validate_cbs(converted, out, "SECMBUS2018V1.sav", "SECM")
    assert pl.read_parquet(out).equals(secm())
    assert outcome.repaired == 0
    report = outcome.frame()
    assert report.filter(pl.col("check") == "open_end")["rows"].to_list() == [2]


def test_repairs_are_applied_and_counted(tmp_path):
    frame = secm(
        RINPERSOONS=["r", "R ", "R"],
        RINPERSOON=["1", "000000001", " 000000002"],
        AANVSECM=["20150101", "20150301", "20150229"],
    )
    out = tmp_path / "out.parquet"
    outcome = validate_cbs(write(tmp_path, frame), out, "SECMBUS2018V1.sav", "SECM")
    repaired = pl.read_parquet(out)
    assert repaired["RINPERSOONS"].to_list() == ["R", "R", "R"]
    assert repaired["RINPERSOON"].to_list() == ["000000001", "000000001", "000000002"]
    assert repaired["AANVSECM"].to_list() == ["20150101", "20150301", "20150301"]
    counts = {(r["column"], r["check"]): r["rows"] for r in outcome.report}
    assert counts[("RINPERSOON", "zero_padding_added")] == 1
    assert counts[("RINPERSOON", "spaces_trimmed")] == 1
    assert counts[("RINPERSOONS", "case_or_spaces")] == 2
    assert counts[("AANVSECM", "leap_day_moved")] == 1


def test_only_columns_whose_repair_changes_no_value_are_read_as_they_are(tmp_path):
    """The table checks read a column as delivered only when its repair is the identity on the
    file: not after a repair, and not when a missing date would become an empty string."""
    clean = validate_cbs(
        write(tmp_path, secm()), tmp_path / "a.parquet", "SECMBUS2018V1.sav", "SECM"
    )
    assert clean.unchanged == set(secm().columns)
    repaired = validate_cbs(
        write(tmp_path, secm(RINPERSOONS=["r", "R", "R"])),
        tmp_path / "b.parquet",
        "SECMBUS2018V1.sav",
        "SECM",
    )
    assert repaired.unchanged == set(secm().columns) - {"RINPERSOONS"}
    missing_end = validate_cbs(
        write(tmp_path, secm(EINDSECM=["20150228", None, "99991231"])),
        tmp_path / "c.parquet",
        "SECMBUS2018V1.sav",
        "SECM",
    )
    assert "EINDSECM" not in missing_end.unchanged


@pytest.mark.parametrize(
    "column,values,problem",
    [
        ("SECM", ["11", "27", "22"], r"column SECM: is not a SECM code.*: 1 row\(s\), data row 2"),
        ("AANVSECM", ["20151301", "x", "20150101"], r"column AANVSECM: is not a date.*data rows 1 and 2"),
        ("AANVSECM", ["18500101", "20150301", "20150101"], r"outside 1900-2050.*data row 1"),
        ("RINPERSOON", ["00000000A", "000000001", "0000000012"], r"not a RINPERSOON.*data rows 1 and 3"),
        ("EINDSECM", ["20141231", "", "99991231"], r"ends before it starts.*data row 1"),
        ("EINDSECM", ["20150301", "", "99991231"], r"spells of one person overlap.*data row 2"),
    ],
)  # fmt: skip
def test_contract_violations_stop_with_rows_and_write_nothing(tmp_path, column, values, problem):
    out = tmp_path / "out.parquet"
    frame = secm(**{column: values})
    with pytest.raises(ValidationError, match=problem) as error:
        validate_cbs(write(tmp_path, frame), out, "SECMBUS2018V1.sav", "SECM")
    assert str(error.value).startswith("SECMBUS2018V1.sav: ")
    assert not out.exists()
    for value in values:
        if len(value) >= 8:
            assert value not in str(error.value)


def test_duplicate_keys_of_a_yearly_file(tmp_path):
    frame = pl.DataFrame(
        {
            "RINPERSOONS": ["R", "S", "R"],
            "RINPERSOON": ["000000001"] * 3,
            "ATC4": ["N06A", "N06A", "A10A"],
        }
    )
    validate_cbs(
        write(tmp_path, frame), tmp_path / "ok.parquet", "MEDICIJN2015TABV1.sav", "MEDICIJN"
    )
    frame = frame.with_columns(
        pl.Series("RINPERSOONS", ["R", "R", "S"]), pl.Series("ATC4", ["N06A", "n06a ", "N06A"])
    )
    with pytest.raises(
        ValidationError, match=r"\(RINPERSOONS, RINPERSOON, ATC4\).*data rows 1 and 2"
    ):
        validate_cbs(
            write(tmp_path, frame), tmp_path / "out.parquet", "MEDICIJN2015TABV1.sav", "MEDICIJN"
        )


def test_municipality_codes_are_padded(tmp_path):
    frame = pl.DataFrame(
        {"SOORTOBJECTNUMMER": ["W", "W"], "RINOBJECTNUMMER": ["1", "2"], "GEM2015": ["599", "0363"]}
    )
    out = tmp_path / "out.parquet"
    outcome = validate_cbs(write(tmp_path, frame), out, "VSLGWB2018TAB03V1.sav", "VSLGWB")
    assert pl.read_parquet(out)["GEM2015"].to_list() == ["0599", "0363"]
    assert outcome.repaired == 1


def test_a_short_key_stored_as_text_is_cut_not_padded(tmp_path):
    """Where the .sav file stores RINPERSOON as a string, a short one was cut (a damaged file),
    not stripped of its zeros: an error with its rows, never padded into another person's key.
    The same value in a column stored as a number is padded; municipality codes are padded
    either way."""
    frame = secm(RINPERSOON=["12345", "000000001", "000000002"])
    out = tmp_path / "out.parquet"
    with pytest.raises(ValidationError, match=r"column RINPERSOON: .*cut short.*data row 1\b"):
        validate_cbs(
            write(tmp_path, frame), out, "SECMBUS2018V1.sav", "SECM", stored_as_text=["rinpersoon"]
        )
    assert not out.exists()
    validate_cbs(write(tmp_path, frame), out, "SECMBUS2018V1.sav", "SECM")
    assert pl.read_parquet(out)["RINPERSOON"][0] == "000012345"

    codes = pl.DataFrame(
        {"SOORTOBJECTNUMMER": ["W", "W"], "RINOBJECTNUMMER": ["1", "2"], "GEM2015": ["0363", "599"]}
    )
    gem = tmp_path / "gem.parquet"
    validate_cbs(
        write(tmp_path, codes), gem, "VSLGWB2018TAB03V1.sav", "VSLGWB", stored_as_text=["GEM2015"]
    )
    assert pl.read_parquet(gem)["GEM2015"].to_list() == ["0363", "0599"]
    # full-width values stored as text pass unchanged
    clean = validate_cbs(
        write(tmp_path, secm()),
        tmp_path / "clean.parquet",
        "SECMBUS2018V1.sav",
        "SECM",
        stored_as_text=["RINPERSOON"],
    )
    assert ("RINPERSOON", "cut_short", "passed") in {
        (r["column"], r["check"], r["action"]) for r in clean.report
    }


# --- municipal extracts ---------------------------------------------------------------------------


def extract_bytes(
    rows: list[str], header="RINPERSOONS;RINPERSOON;REGELING;DATUM_AANVANG;DATUM_EINDE"
):
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def test_row_numbers_refer_to_the_file_after_duplicates_are_dropped():
    data = extract_bytes(
        ["R;000000001;PW;01-01-2015;", "R;000000001;PW;01-01-2015;", "R;000000002;PW;31-02-2015;"]
    )
    with pytest.raises(ExtractError, match=r"DATUM_AANVANG: 1 value\(s\).*data row 3"):
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])


def test_municipal_validation_repairs_and_stops():
    data = extract_bytes(
        ["r;1;PW;01-01-2015;", "R;000000002;pw;20-03-2015;05-03-2015", ";;IOAW;2015-05-01;"]
    )
    cleaned = clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])
    frame, outcome = validate_extract(cleaned.frame, "uitkeringen.csv", "uitkeringen")
    assert frame["RINPERSOONS"].to_list() == ["R", "R", None]
    assert frame["RINPERSOON"].to_list() == ["000000001", "000000002", None]
    assert frame[ROW].to_list() == [1, 2, 3]
    counts = {(r["column"], r["check"]): r["rows"] for r in outcome.report}
    assert counts[("DATUM_AANVANG, DATUM_EINDE", "end_before_start_same_month")] == 1
    bad = extract_bytes(["R;000000001;WW;01-01-2015;", "R;000000002;PW;20-03-2015;05-01-2015"])
    cleaned = clean_extract(bad, "uitkeringen.csv", EXTRACTS["uitkeringen"])
    with pytest.raises(ValidationError, match=r"REGELING: is not a REGELING.*data row 1") as error:
        validate_extract(cleaned.frame, "uitkeringen.csv", "uitkeringen")
    assert "the end lies in a month before the start: 1 row(s), data row 2" in str(error.value)


@pytest.mark.parametrize(
    "data,problem",
    [
        (b"", "the file is empty"),
        ("RINPERSOONS;RINPERSOON\r\n".encode("utf-16"), "looks like UTF-16"),
        (extract_bytes([]), "header but no data rows"),
        (extract_bytes(["R;000000001;PW;01-01-2015"]), r"1 row\(s\) do not have the 5"),
        (extract_bytes(["R;000000001;PW;01-01-2015;"]).replace(b";", b","), "expected ';'"),
    ],
)
def test_unreadable_extracts_are_extract_errors(data, problem):
    with pytest.raises(ExtractError, match=problem):
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])


def test_windows_1252_behind_a_utf8_bom_is_read():
    text = "RINPERSOONS;RINPERSOON;INTERVENTIE;STARTDATUM;EINDDATUM\r\nR;000000001;Coördinatie;01-01-2015;\r\n"
    data = b"\xef\xbb\xbf" + text.encode("cp1252")
    cleaned = clean_extract(data, "interventies.csv", EXTRACTS["interventies"])
    assert cleaned.frame["INTERVENTIE"].to_list() == ["Coördinatie"]
    assert "behind a UTF-8 byte-order mark" in cleaned.report["value"][0]


@pytest.mark.parametrize("rin", ["000012345", VALID_BSN])  # the second passes the eleven-test
def test_a_missing_header_does_not_put_a_rin_or_a_row_in_the_message(rin):
    data = f"R;{rin};PW;17-01-2015;\r\nR;000012346;PW;01-01-2015;\r\n".encode()
    with pytest.raises(ExtractError, match="the header row is missing") as error:
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])
    assert rin not in str(error.value) and "17-01-2015" not in str(error.value)


def test_a_comma_separated_file_is_described_not_quoted():
    data = f"R,{VALID_BSN},PW,17-01-2015,\r\n".encode()
    with pytest.raises(ExtractError, match="found 5 fields separated by ','") as error:
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])
    assert "17-01-2015" not in str(error.value) and VALID_BSN not in str(error.value)


def test_a_carriage_return_inside_a_field_is_an_extract_error_naming_the_line():
    data = extract_bytes(["R;000000001;PW;01-01-2015;", "R;000000002;P\rW;01-01-2015;"])
    with pytest.raises(ExtractError, match=r"uitkeringen\.csv: cannot be read .* at line 3"):
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])


def test_a_column_name_is_quoted_with_its_numbers_masked():
    with pytest.raises(PrivacyError) as error:
        check_column_names("x.csv", ["RINPERSOON", f"BSN {VALID_BSN}"], municipal=True)
    assert VALID_BSN not in str(error.value) and "'BSN <number>'" in str(error.value)


def test_spells_of_an_s_and_an_r_person_with_one_number_do_not_overlap(tmp_path):
    frame = secm(
        RINPERSOONS=["R", "S", "R"],
        AANVSECM=["20150101", "20150101", "20150101"],
        EINDSECM=["20151231", "20151231", ""],
    )
    validate_cbs(write(tmp_path, frame), tmp_path / "out.parquet", "SECMBUS2018V1.sav", "SECM")


def test_spells_of_neighbouring_packed_persons_do_not_overlap(tmp_path):
    """R 999999999 and S 000000000 are neighbours as packed BIGINT persons, not one person."""
    frame = secm(
        RINPERSOONS=["R", "S", "S"],
        RINPERSOON=["999999999", "000000000", "000000001"],
        AANVSECM=["20150101", "20150101", "20150101"],
        EINDSECM=["20151231", "20151231", ""],
    )
    validate_cbs(write(tmp_path, frame), tmp_path / "out.parquet", "SECMBUS2018V1.sav", "SECM")


def test_the_spell_check_stops_on_a_key_it_cannot_pack_instead_of_merging_persons():
    """Column checks keep such keys away from it; should one ever get through, the spell check
    must fail, not fold R 1000000000 into S 000000000."""
    con = _connect()
    con.register(
        "repaired",
        secm(RINPERSOON=["1000000000", "000000001", "000000002"]).with_row_index(ROW, offset=1),
    )
    with pytest.raises(duckdb.Error, match=PERSON_PACKING_ERROR):
        _check_spells(con, "repaired", CBS_TABLES["SECM"], Outcome("SECMBUS2018V1.sav"))


INTAKE_HEADER = "RINPERSOONS;RINPERSOON;INTAKEDATUM;LOCATIE;WERKCONSULENT;AFDELING;VERWIJSDATUM"


def intake_rows(*rows: str):
    cleaned = clean_extract(
        extract_bytes(list(rows), INTAKE_HEADER), "werkintake.csv", EXTRACTS["werkintake"]
    )
    return validate_extract(cleaned.frame, "werkintake.csv", "werkintake")


def test_a_referral_on_its_intake_day_passes_one_day_before_stops():
    frame, _ = intake_rows(
        "R;000000001;01-03-2015;Noord;WC1;Matching;01-03-2015",
        "R;000000002;01-03-2015;Noord;WC1;Matching;",
    )
    assert frame.height == 2
    with pytest.raises(ValidationError) as error:
        intake_rows(
            "R;000000001;01-03-2015;Noord;WC1;Matching;01-03-2015",
            "R;000000002;01-03-2015;Noord;WC1;Matching;28-02-2015",
        )
    message = str(error.value)
    assert "columns INTAKEDATUM, VERWIJSDATUM: the referral is dated before its intake" in message
    assert "1 row(s), data row 2" in message


def test_caseworker_codes_differing_in_case_or_spaces_are_one_caseworker():
    from wwvw.ingest.municipal import normalise_caseworkers

    frame = pl.DataFrame({"WERKCONSULENT": ["WC12", "wc12", " Wc 12", "WC13", None]})
    normalised, changed = normalise_caseworkers(frame)
    assert normalised["caseworker"].to_list() == ["WC12", "WC12", "WC12", "WC13", None]
    assert changed == 2


@pytest.mark.parametrize("column", ["INTERVENTIE", "STARTDATUM"])
def test_a_quoted_field_over_a_line_break_is_refused_naming_column_and_row(column):
    header = "RINPERSOONS;RINPERSOON;INTERVENTIE;STARTDATUM;EINDDATUM"
    rows = [f"R;00000000{i};Werkfit;01-0{i}-2016;" for i in range(1, 6)]
    position = header.split(";").index(column)
    fields = rows[1].split(";")
    fields[position] = '"' + fields[position]
    rows[1] = ";".join(fields)
    rows[3] = rows[3] + '"'  # closes it two lines later (ends the row's last field)
    with pytest.raises(ExtractError) as error:
        clean_extract(extract_bytes(rows, header), "interventies.csv", EXTRACTS["interventies"])
    message = str(error.value)
    assert f"column {column}: a quoted field runs over a line break" in message
    assert "1 row(s), data row 2" in message
    assert "000000003" not in message  # the swallowed rows are not quoted


def test_a_quoted_field_on_one_line_passes():
    header = "RINPERSOONS;RINPERSOON;INTERVENTIE;STARTDATUM;EINDDATUM"
    data = extract_bytes(['R;000000001;"Werkfit; groep";01-01-2016;'], header)
    cleaned = clean_extract(data, "interventies.csv", EXTRACTS["interventies"])
    assert cleaned.frame["INTERVENTIE"].to_list() == ["Werkfit; groep"]


def test_a_cbs_csv_copy_with_a_quoted_field_over_lines_is_refused(tmp_path):
    from wwvw.ingest.cbs import check_csv_rows

    path = tmp_path / "WANBZVW2015TABV1.csv"
    path.write_text(
        'RINPERSOONS;RINPERSOON\nR;000000001\nR;"000000002\nR;000000003"\nR;000000004\n'
    )
    with pytest.raises(InputError) as error:
        check_csv_rows(path, ";")
    assert "column RINPERSOON: a quoted field runs over a line break" in str(error.value)
    assert "data row 2" in str(error.value) and "000000003" not in str(error.value)
    path.write_text('RINPERSOONS;RINPERSOON\nR;"000000001"\nR;000000002')  # no final line break
    check_csv_rows(path, ";")


@pytest.mark.parametrize(
    "text",
    [
        "Scholing 123-456-782",
        "Scholing 123 456 782",
        "Traject 1 2 3 4 5 6 7 8 2",
        "Werkfit １２３４５６７８２",
        "Werk 12345672",  # the leading zero of 012345672 dropped
        "Werkfit, mevr. Jansen",
        "dhr. J. de Vries",
        "Coaching (Mw.Pietersen)",
        "mail j.jansen@voorbeeld.nl",
        "tel 06-12345678",
        "bel 010 - 1234567".replace(" - ", "-"),
        "+31 6 1234 5678",
    ],
)
def test_identifiers_in_free_text_are_refused_in_any_notation(text):
    frame = pl.DataFrame({"RINPERSOON": ["000000001"], "INTERVENTIE": [text]})
    with pytest.raises(PrivacyError) as error:
        check_municipal_values("interventies.csv", frame)
    assert "column 'INTERVENTIE'" in str(error.value) and "data row 1" in str(error.value)
    assert text not in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        "Proefplaatsing 2 mnd",
        "LKS 50%",
        "loonkostensubs.",
        "Vrijwilligerswerk (buurthuis)",
        "scholing (VCA)",
        "NT-2 cursus",
        "Sollicitatie-training (groep)",
        "Sociale activering – dagbesteding",
        "MS Office cursus",
        "Cursus HR Basis",
        "Start 01-03-2016, eind 2016-09-30",
        "Werkplein 0599",
        "Traject 12345678",  # eight digits that fail the eleven-test with a leading zero
    ],
)
def test_ordinary_intervention_texts_pass_the_free_text_guard(text):
    check_municipal_values("interventies.csv", pl.DataFrame({"INTERVENTIE": [text]}))


def test_formulas_in_free_text_are_neutralised_and_counted():
    header = "RINPERSOONS;RINPERSOON;INTERVENTIE;STARTDATUM;EINDDATUM"
    rows = [
        'R;000000001;=HYPERLINK("x");01-01-2016;',
        "R;000000002;+cmd|' /C calc'!A0;01-01-2016;",
        "R;000000003;@SUM(1+1);01-01-2016;",
        "R;000000004;-2+3;01-01-2016;",
        "R;000000005;Werkfit = goed;01-01-2016;",
    ]
    cleaned = clean_extract(
        extract_bytes(rows, header), "interventies.csv", EXTRACTS["interventies"]
    )
    texts = cleaned.frame["INTERVENTIE"].to_list()
    assert texts[:4] == ['\'=HYPERLINK("x")', "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3"]
    assert texts[4] == "Werkfit = goed"
    report = dict(cleaned.report.select("measure", "value").iter_rows())
    assert report["formula_like_values_neutralised"] == "4"


@pytest.mark.parametrize(
    "head,kind",
    [
        (b"$FL2@(#) IBM SPSS STATISTICS", "an SPSS .sav file"),
        (b"PAR1\x15\x04", "a Parquet file"),
        (b"PK\x03\x04\x14\x00", "a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "an Office document"),
    ],
)
def test_binary_files_under_a_csv_name_are_named_for_what_they_are(tmp_path, head, kind):
    from wwvw.ingest.cbs import sniff_separator

    data = head + bytes(range(256))
    with pytest.raises(ExtractError, match=f"uitkeringen.csv: the file is {kind}"):
        clean_extract(data, "uitkeringen.csv", EXTRACTS["uitkeringen"])
    path = tmp_path / "WANBZVW2015TABV1.csv"
    path.write_bytes(data)
    with pytest.raises(InputError, match=f"the file is {kind}"):
        sniff_separator(path)
