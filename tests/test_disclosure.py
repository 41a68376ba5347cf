"""CBS output rules (scripts/wwvw/release/disclosure.py) on small hand-made tables and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from wwvw.release import disclosure as sdc

RIN = "000123456"  # zero-padded, as RINPERSOON is written


def long_table(interior: dict[str, dict[str, int]], margin: str = "total") -> pl.DataFrame:
    """A department x category count table in long form with its row, column and grand totals."""
    rows = []
    columns = sorted({c for cells in interior.values() for c in cells})
    for r, cells in interior.items():
        rows += [(r, c, v) for c, v in cells.items()]
        rows.append((r, margin, sum(cells.values())))
    for c in columns:
        rows.append((margin, c, sum(cells.get(c, 0) for cells in interior.values())))
    rows.append((margin, margin, sum(sum(cells.values()) for cells in interior.values())))
    return pl.DataFrame(rows, schema=["department", "category", "n"], orient="row")


def suppressed(safe: pl.DataFrame, flag: str = "n_suppressed") -> set[tuple[str, str]]:
    return set(safe.filter(pl.col(flag)).select("department", "category").iter_rows())


def export_names(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir())


# --- primary and secondary suppression ----------------------------------------------------------


def test_cell_of_nine_and_its_row_complement_are_suppressed():
    table = long_table(
        {
            "matching": {"A": 9, "B": 40, "C": 60},
            "prematching": {"A": 30, "B": 50, "C": 70},
            "activering": {"A": 20, "B": 25, "C": 35},
        }
    )
    safe, log = sdc.suppress_table(table, "department", "category", "n")

    # 9 < 10: primary. Its row and column would give it back, so the next-smallest cell of the row
    # (40) and of the column (20) go too; 20 leaves activering with one unknown, so 25 goes; the
    # totals stay.
    assert suppressed(safe) == {
        ("matching", "A"),
        ("matching", "B"),
        ("activering", "A"),
        ("activering", "B"),
    }
    assert safe.filter(pl.col("n_suppressed"))["n"].null_count() == 4
    assert safe.filter(~pl.col("n_suppressed"))["n"].null_count() == 0
    reasons = dict(zip(log["department"] + "/" + log["category"], log["reason"], strict=True))
    assert reasons["matching/A"].startswith("primary")
    assert all(r.startswith("secondary") for k, r in reasons.items() if k != "matching/A")


def test_margin_is_suppressed_when_it_is_the_only_other_cell_in_its_row():
    # matching has a single category; the dominance rule (passed as extra_unsafe) hits its cell,
    # so the row total, equal to that cell, must go, and after it a second row total in the total
    # column and a second cell in column A.
    table = long_table({"matching": {"A": 50}, "prematching": {"A": 30, "B": 40}})
    dominated = (pl.col("department") == "matching") & (pl.col("category") == "A")
    safe, _ = sdc.suppress_table(table, "department", "category", "n", extra_unsafe=dominated)

    assert suppressed(safe) == {
        ("matching", "A"),
        ("matching", "total"),
        ("prematching", "A"),
        ("prematching", "total"),
    }
    assert safe.filter(pl.col("department") == "total")["n"].null_count() == 0


def test_margin_with_unlisted_categories_stays_when_its_only_cell_is_suppressed():
    # 'yes' beside a total that also counts the unlisted 'no': the total does not give 'yes' back,
    # so it is not suppressed.
    table = pl.DataFrame({"level": ["yes", "total"], "n": [9, 500]})
    safe, _ = sdc.suppress_table(table, "level", None, "n")
    assert safe["n"].to_list() == [None, 500]


def test_small_unlisted_remainder_is_protected():
    # 495 of 500 have debts: total minus 'yes' reveals 5 persons without, so 'yes' goes.
    table = pl.DataFrame({"level": ["yes", "total"], "n": [495, 500]})
    safe, _ = sdc.suppress_table(table, "level", None, "n")
    assert safe["n"].to_list() == [None, 500]


def test_one_dimensional_tables_side_by_side():
    # Table 1 layout: level x characteristic, each characteristic a column with its own total.
    table = pl.DataFrame(
        {
            "characteristic": ["sex", "sex", "sex", "age", "age", "age", "age"],
            "level": ["man", "woman", "total", "18-30", "30-45", "45-65", "total"],
            "n": [9, 300, 309, 40, 200, 69, 309],
        }
    )
    safe, _ = sdc.suppress_table(table, "level", "characteristic", "n")
    assert safe["n_suppressed"].to_list() == [True, True, False, False, False, False, False]


def test_two_small_cells_that_add_up_to_a_small_group_are_protected():
    # 3 and 4 are both suppressed, but the total gives their sum, 7 persons: one more cell goes.
    table = pl.DataFrame({"level": ["a", "b", "c", "d", "total"], "n": [3, 4, 20, 50, 77]})
    safe, _ = sdc.suppress_table(table, "level", None, "n")
    assert safe["n_suppressed"].to_list() == [True, True, True, False, False]


@pytest.mark.parametrize("seed", range(20))
def test_no_line_keeps_a_single_unknown_cell(seed):
    """On random 4 x 5 tables: every small cell is suppressed, and no row or column with a
    published total has exactly one unknown cell or unknown cells adding up to fewer than 10."""
    rng = np.random.default_rng(seed)
    counts = rng.choice(
        [0, 3, 8, 12, 25, 60, 150], size=(4, 5), p=[0.05, 0.1, 0.1, 0.2, 0.2, 0.2, 0.15]
    )
    interior = {
        f"r{i}": {f"c{j}": int(counts[i, j]) for j in range(counts.shape[1])}
        for i in range(counts.shape[0])
    }
    table = long_table(interior)
    safe, _ = sdc.suppress_table(table, "department", "category", "n")

    small = table.filter(pl.col("n") < 10).select("department", "category")
    assert suppressed(safe) >= set(small.iter_rows())
    for key, other in (("department", "category"), ("category", "department")):
        for _, line in safe.group_by(key):
            is_total = pl.col(other) == "total"
            unknown = line.filter(pl.col("n").is_null()).height
            if unknown == 0:
                continue
            assert unknown >= 2, "a suppressed cell follows from its line"
            total = line.filter(is_total)["n"].item()
            if total is not None:
                unknown_sum = total - line.filter(~is_total)["n"].sum()
                assert unknown_sum >= 10, "suppressed cells add up to a small group"


# --- proportions, dominance, models, extremes ---------------------------------------------------


@pytest.mark.parametrize(
    ("n", "p", "unsafe"),
    [
        (100, 0.08, True),  # n*p = 8
        (100, 0.10, False),  # n*p = 10
        (100, 0.95, True),  # n*(1-p) = 5
        (100, 0.90, False),  # n*(1-p) = 10
        (12, 0.5, True),  # 6 and 6
    ],
)
def test_proportion_rule(n, p, unsafe):
    frame = pl.DataFrame({"n": [n], "p": [p], "pct": [100 * p], "n_started": [round(n * p)]})
    assert bool(sdc.check_proportions(frame, "n", "p")) is unsafe
    assert bool(sdc.check_proportions(frame, "n", "pct", scale=100)) is unsafe
    assert bool(sdc.check_proportions(frame, "n", n_event_col="n_started")) is unsafe


def test_unsafe_share_is_suppressed_with_its_count_in_an_export(tmp_path):
    table = tmp_path / "table2.csv"
    table.write_text(
        "department,n,n_started,pct_started\n"
        "matching,100,95,95.0\n"
        "prematching,100,40,40.0\n"
        "activering,100,20,20.0\n"
    )
    rule = sdc.TableRule(
        count_cols=("n", "n_started"),
        proportions=(sdc.Proportion("n", events="n_started", share="pct_started", scale=100),),
    )
    sdc.build_export({"table2.csv": table}, {"table2.csv": rule}, tmp_path / "export")
    safe = pl.read_csv(tmp_path / "export" / "table2.csv")
    assert safe["n_started"].to_list() == [None, 40, 20]  # 100 - 95 = 5 persons did not start
    assert safe["pct_started"].to_list() == [None, 40.0, 20.0]
    assert safe["n"].to_list() == [100, 100, 100]


def test_dominance_rule():
    frame = pl.DataFrame({"income": [1000.0, 1000.0, 1000.0], "largest": [501.0, 500.0, None]})
    findings = sdc.check_dominance(frame, "income", "largest")
    assert [f.location for f in findings] == ["column 'income', data rows 1, 3"]


def test_dominated_cell_is_suppressed_and_maxima_not_exported(tmp_path):
    table = tmp_path / "income.csv"
    table.write_text(
        "category,income,largest,n\nA,1000,600,40\nB,2000,300,50\nC,1500,200,60\ntotal,4500,600,150\n"
    )
    rule = sdc.TableRule(
        row_key="category", magnitudes=(sdc.Magnitude(value="income", max="largest", n="n"),)
    )
    checks = sdc.build_export({"income.csv": table}, {"income.csv": rule}, tmp_path / "export")
    safe = pl.read_csv(tmp_path / "export" / "income.csv")
    assert "largest" not in safe.columns
    assert safe["income"].to_list() == [None, 2000, None, 4500]  # A dominated; C next-smallest
    status = dict(zip(checks["check"], checks["status"], strict=True))
    assert status["dominance"] == "suppressed"
    assert status["extremes"] == "pass"


def test_model_needs_ten_residual_degrees_of_freedom(tmp_path):
    estimates = pl.DataFrame({"model": ["iv", "iv"], "coef": [0.1, 0.2], "df_resid": [10, 9]})
    assert [f.location for f in sdc.check_model(estimates)] == ["data row 2"]
    assert sdc.check_model(pl.DataFrame({"n": [14]}), n_params=4) == []
    assert len(sdc.check_model(pl.DataFrame({"n": [14]}), n_params=5)) == 1

    path = tmp_path / "estimates.csv"
    estimates.write_csv(path)
    with pytest.raises(sdc.DisclosureError, match=r"estimates\.csv \[residual_df\]: data row 2"):
        sdc.build_export(
            {"estimates.csv": path}, {"estimates.csv": sdc.ModelRule()}, tmp_path / "x"
        )
    assert not (tmp_path / "x").exists()


def test_minima_and_maxima_are_flagged():
    frame = pl.DataFrame({"max_age": [64], "n": [100]})
    assert [f.location for f in sdc.check_extremes(frame)] == ["column 'max_age'"]
    describe = pl.DataFrame({"statistic": ["mean", "Max"], "age": ["41.2", "64"]})
    assert [f.location for f in sdc.check_extremes(describe)] == ["column 'statistic', data row 2"]
    assert sdc.check_extremes(pl.DataFrame({"ci_low": [0.1], "ci_high": [0.3]})) == []


# --- identifiers and person-level data ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "123456789",
        RIN,
        "R000123456",
        "RIN 123456789.",
        "id=123456789;",
        "-123456789",
        "a\n123456789",
    ],
)
def test_rin_like_tokens_are_found(text):
    assert sdc.scan_for_identifiers(text)


@pytest.mark.parametrize(
    "text",
    [
        "1234567890",
        "0.123456789",
        "123456789.25",
        ".123456789",
        "12345678",
        "1,234,567",
        "2015-01-01",
    ],
)
def test_numbers_that_are_not_rins_are_not_flagged(text):
    assert sdc.scan_for_identifiers(text) == []


def test_frame_scan_finds_rins_by_column_and_row_without_quoting_them():
    frame = pl.DataFrame(
        {
            "n": [14118, 123456789],
            "share": [0.123456789, 123456789.5],
            "label": ["man", f"person {RIN}"],
            RIN: [1, 2],
        }
    )
    findings = sdc.scan_for_identifiers(frame)
    assert [f.location for f in findings] == [
        "name of column 4",
        "column 'n', data row 2",
        "column 'label', data row 2",
    ]
    assert not any("123456" in str(f) for f in findings)


def test_person_level_frames_are_flagged():
    by_name = pl.DataFrame({"RINPERSOON": ["a", "b"], "n": [1, 1]})
    by_shape = pl.DataFrame({"client_nr": ["x1", "x2", "x3"], "months": [3, 4, 5]})
    by_values = pl.DataFrame({"key_hash": ["0012345", "0012346"], "y": [1, 0]})
    aggregate = pl.DataFrame({"department": ["matching", "prematching"], "n": [2888, 2043]})
    assert sdc.scan_for_person_level(by_name)
    assert sdc.scan_for_person_level(by_shape)
    assert sdc.scan_for_person_level(by_values)
    assert sdc.scan_for_person_level(aggregate) == []


FILES_WITH_A_RIN = {
    "leak.csv": f"department,n\nmatching,{RIN}\n",
    "leak.html": f"<html><body><p>client {RIN} started work</p></body></html>",
    "leak.svg": f'<svg xmlns="http://www.w3.org/2000/svg"><text x="1">{RIN}</text></svg>',
    "leak.json": f'{{"n": 2888, "client": "{RIN}"}}',
}


@pytest.mark.parametrize("name", sorted(FILES_WITH_A_RIN))
def test_rin_in_any_output_blocks_the_export_without_quoting_it(tmp_path, name):
    source = tmp_path / name
    source.write_text(FILES_WITH_A_RIN[name])
    rule = sdc.TableRule(count_cols=()) if name.endswith(".csv") else sdc.ScanRule()
    out_dir = tmp_path / "export"
    with pytest.raises(sdc.DisclosureError) as error:
        sdc.build_export({name: source}, {name: rule}, out_dir)
    message = str(error.value)
    assert f"{name} [identifiers]" in message
    assert "line 2" in message or "line 1" in message
    assert RIN not in message and "123456" not in message
    assert not out_dir.exists()


def test_check_file_scans_every_line(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("<p>N = 32,450</p>\n<p>0.123456789</p>\n<p>case 123456789</p>\n")
    assert [f.location for f in sdc.check_file(path)] == ["line 3"]


def test_national_register_sizes_in_declared_count_columns_are_counts_not_keys(tmp_path):
    """At national scale the linkage report counts 103,829,574 spells: nine digits in a count
    column of a table declared to hold national counts are released; the same number in any
    other column, or in a table of the cohort, still blocks the export."""
    rule = sdc.TableRule(count_cols=("rows", "persons"), row_key="source", national_counts=True)
    linkage = tmp_path / "linkage.csv"
    linkage.write_text("source,rows,persons\nsecm,103829574,17199465\npersons,17199515,17199515\n")
    checks = sdc.build_export({"qc/linkage.csv": linkage}, {"qc/linkage.csv": rule}, tmp_path / "a")
    assert set(checks.filter(pl.col("check") == "identifiers")["status"]) == {"pass"}
    assert (tmp_path / "a" / "qc" / "linkage.csv").read_text() == linkage.read_text()
    leaked = tmp_path / "leaked.csv"
    leaked.write_text("source,rows,persons,note\nsecm,103829574,17199465,103829574\n")
    with pytest.raises(sdc.DisclosureError, match=r"\[identifiers\]: column 'note'"):
        sdc.build_export({"qc/linkage.csv": leaked}, {"qc/linkage.csv": rule}, tmp_path / "b")
    assert sdc.check_file(linkage)  # without the rule, a plain scan still flags the count
    cohort_rule = sdc.TableRule(count_cols=("rows", "persons"), row_key="source")
    with pytest.raises(sdc.DisclosureError, match=r"\[identifiers\]"):
        sdc.build_export(
            {"qc/linkage.csv": linkage}, {"qc/linkage.csv": cohort_rule}, tmp_path / "c"
        )


# --- the export ---------------------------------------------------------------------------------

TABLE1 = (
    "characteristic,level,n,pct,n_started,pct_started\n"
    "sex,man,120,40.0,30,25.0\n"
    "sex,woman,180,60.0,9,5.0\n"
    "sex,total,300,100.0,39,13.0\n"
    "debts,yes,60,20.0,15,25.0\n"
)
TABLE2 = (
    "department,n,n_started,pct_started\n"
    "matching,2888,1277,44.2\n"
    "prematching,2043,234,11.5\n"
    "activering,1057,24,2.3\n"
)
ESTIMATES = "model,treatment,coef,se,n,df_resid\niv,matching,0.1,0.03,5988,5980\n"
FIGURE = '<svg xmlns="http://www.w3.org/2000/svg"><text>44.2%</text></svg>\n'

TABLE1_RULE = sdc.TableRule(
    count_cols=("n", "n_started"),
    row_key="level",
    col_key="characteristic",
    proportions=(sdc.Proportion("n", events="n_started", share="pct_started", scale=100),),
    derived={"pct": ("n",)},
)
TABLE2_RULE = sdc.TableRule(
    count_cols=("n", "n_started"),
    row_key="department",
    proportions=(sdc.Proportion("n", events="n_started", share="pct_started", scale=100),),
)


def results(tmp_path: Path) -> tuple[dict[str, Path], dict[str, sdc.Rule]]:
    sources = {
        "tables/table1.csv": TABLE1,
        "tables/table2.csv": TABLE2,
        "estimates/estimates.csv": ESTIMATES,
        "figures/table2.svg": FIGURE,
    }
    files = {}
    for name, text in sources.items():
        files[name] = tmp_path / "results" / name
        files[name].parent.mkdir(parents=True, exist_ok=True)
        files[name].write_text(text)
    rules = {
        "tables/table1.csv": TABLE1_RULE,
        "tables/table2.csv": TABLE2_RULE,
        "estimates/estimates.csv": sdc.ModelRule(),
        "figures/table2.svg": sdc.ScanRule(sources=("tables/table2.csv",)),
    }
    return files, rules


def test_output_check_lists_every_file_with_its_checks(tmp_path):
    files, rules = results(tmp_path)
    out_dir = tmp_path / "export"
    checks = sdc.build_export(files, rules, out_dir)

    on_disk = pl.read_csv(out_dir / "output_check.csv")
    assert on_disk.equals(checks)
    assert on_disk.columns == ["file", "check", "status", "detail"]
    assert set(on_disk["file"]) == set(files)
    assert set(on_disk["status"]) <= {"pass", "suppressed"}
    per_file = {f: set(g["check"]) for (f,), g in on_disk.group_by("file")}
    assert {"identifiers", "person_level", "extremes", "min_count", "secondary"} <= per_file[
        "tables/table1.csv"
    ]
    assert {"identifiers", "residual_df"} <= per_file["estimates/estimates.csv"]
    assert per_file["figures/table2.svg"] == {"identifiers", "sources"}
    exported = {str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file()}
    assert exported == set(files) | {"output_check.csv"}

    # table2 and the figure passed unchanged and are copied byte for byte
    assert (out_dir / "tables/table2.csv").read_text() == TABLE2
    table2_status = on_disk.filter(pl.col("file") == "tables/table2.csv")["status"]
    assert set(table2_status) == {"pass"}

    # table1: 9 women started (primary), so the men who started go too (sex total is published),
    # with the shares that would give them back; n and pct are untouched
    table1 = pl.read_csv(out_dir / "tables/table1.csv")
    assert table1["n_started"].to_list() == [None, None, 39, 15]
    assert table1["pct_started"].to_list() == [None, None, 13.0, 25.0]
    assert table1["n"].to_list() == [120, 180, 300, 60]
    assert table1["n_started_suppressed"].to_list() == [True, True, False, False]
    detail = on_disk.filter(
        (pl.col("file") == "tables/table1.csv") & (pl.col("check") == "suppressed_cells")
    )["detail"].item()
    assert "n_started: level=man/characteristic=sex, level=woman/characteristic=sex" in detail


def test_failing_build_leaves_no_export_behind(tmp_path):
    files, rules = results(tmp_path)
    out_dir = tmp_path / "export"
    sdc.build_export(files, rules, out_dir)
    assert out_dir.exists()

    files["tables/table2.csv"].write_text(TABLE2 + f"other,{RIN},10,1.0\n")
    with pytest.raises(sdc.DisclosureError, match=r"tables/table2\.csv \[identifiers\]"):
        sdc.build_export(files, rules, out_dir)
    assert not out_dir.exists()
    assert export_names(tmp_path) == ["results"]  # no temporary or stale directories either


def test_figure_drawn_from_a_table_that_needed_suppression_fails(tmp_path):
    files, rules = results(tmp_path)
    rules["figures/table2.svg"] = sdc.ScanRule(sources=("tables/table1.csv",))
    with pytest.raises(sdc.DisclosureError, match=r"figures/table2\.svg \[sources\]"):
        sdc.build_export(files, rules, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_file_without_a_rule_fails(tmp_path):
    files, rules = results(tmp_path)
    del rules["estimates/estimates.csv"]
    with pytest.raises(sdc.DisclosureError, match=r"estimates/estimates\.csv \[rule\]"):
        sdc.build_export(files, rules, tmp_path / "export")


def test_person_level_table_fails_naming_the_column_only(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("RINPERSOONS,RINPERSOON,started\nR,12345,1\nR,12346,0\n")
    with pytest.raises(sdc.DisclosureError) as error:
        sdc.build_export({"rows.csv": path}, {"rows.csv": sdc.TableRule()}, tmp_path / "export")
    message = str(error.value)
    assert "rows.csv [person_level]: column 'RINPERSOONS'" in message
    assert "12345" not in message


def test_thresholds_are_configurable():
    frame = pl.DataFrame({"n": [9, 4]})
    assert len(sdc.check_counts(frame, ["n"])) == 1
    assert [f.location for f in sdc.check_counts(frame, ["n"], sdc.Thresholds(min_persons=5))] == [
        "column 'n', data row 2"
    ]
    assert sdc.Thresholds.from_mapping({"min_persons": 15}).min_persons == 15
    with pytest.raises(ValueError, match="unknown"):
        sdc.Thresholds.from_mapping({"min_person": 15})
    zero = pl.DataFrame({"n": [0]})
    assert sdc.check_counts(zero, ["n"])
    assert sdc.check_counts(zero, ["n"], sdc.Thresholds(zero_cells_allowed=True)) == []


def test_rebuild_replaces_the_previous_export_and_images_need_sources(tmp_path):
    files, rules = results(tmp_path)
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    (out_dir / "stale.csv").write_text("left over from an earlier run\n")
    image = tmp_path / "results" / "figures" / "table2.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    files["figures/table2.png"] = image
    rules["figures/table2.png"] = sdc.ScanRule(sources=("tables/table2.csv",))

    checks = sdc.build_export(files, rules, out_dir)
    assert not (out_dir / "stale.csv").exists()
    assert (out_dir / "figures/table2.png").read_bytes() == image.read_bytes()
    assert "figures/table2.png" in set(checks["file"])
    assert export_names(tmp_path) == ["export", "results"]

    rules["figures/table2.png"] = sdc.ScanRule()
    with pytest.raises(sdc.DisclosureError, match=r"figures/table2\.png \[identifiers\]"):
        sdc.build_export(files, rules, out_dir)
