"""Provenance names an input file only when its name follows the input contract."""

from wwvw.release.provenance import input_files


def test_a_file_named_by_hand_is_identified_by_hash_and_kind_only(tmp_path):
    (tmp_path / "cbs").mkdir()
    (tmp_path / "municipal").mkdir()
    files = {
        "cbs/GBAPERSOON2018TABV2.sav": b"a",
        "cbs/VRLHOOGSTEOPL2016TABV4.sav": b"b",
        "cbs/JANSEN2016TABV1.sav": b"c",  # CBS's form, but no stem of the contract
        "cbs/notes J. de Vries.txt": b"d",
        "municipal/werkintake.csv": b"e",
        "municipal/Jansen 06-12345678 BSN 123456782.xlsx": b"f",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    rows = input_files(tmp_path, {"persons": "GBAPERSOON2018TABV2.sav"})
    shown = {row["file"] for row in rows}
    assert {"cbs/GBAPERSOON2018TABV2.sav", "cbs/VRLHOOGSTEOPL2016TABV4.sav"} <= shown
    assert "municipal/werkintake.csv" in shown
    text = repr(rows)
    for hidden in ("JANSEN", "Vries", "Jansen", "12345678", "123456782"):
        assert hidden not in text
    others = [row for row in rows if "other" in row["file"]]
    assert len(others) == 3 and all(len(row["sha256"]) == 64 for row in others)
    assert {row["file"].split(" file ")[0] for row in others} == {
        "cbs/other sav",
        "cbs/other txt",
        "municipal/other xlsx",
    }
    assert all(row["used_as"] is None for row in others)
