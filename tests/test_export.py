"""The disclosure rules of the workflow (scripts/wwvw/release/bundle.py, rules disclose_tables and export)
on hand-made tables, and the export bundle of a real run."""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import polars as pl
import pytest
from wwvw.release import bundle as release
from wwvw.release import disclosure as sdc

ROOT = Path(__file__).resolve().parents[1]
RIN = "000123456"
CBS = sdc.Thresholds()

TABLE1 = pl.DataFrame(
    {
        "characteristic": ["total", "sex", "sex", "debts", "debts"],
        "level": ["all", "man", "woman", "yes", "no"],
        "n": [209, 200, 9, 60, 149],
        "pct": [100.0, 95.7, 4.3, 28.7, 71.3],
        "n_started": [60, 40, 20, 20, 40],
        "pct_started": [100.0, 66.7, 33.3, 33.3, 66.7],
    }
)
TABLE2 = pl.DataFrame(
    {
        "department": ["matching", "prematching", "activering"],
        "n": [100, 200, 150],
        "n_started": [8, 50, 30],
        "pct_started": [8.0, 25.0, 20.0],
    }
)


def release_one(
    tmp_path: Path, name: str, frame: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`name` through the rule `disclose_tables` uses: prepared, checked, suppressed."""
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(source)
    target = tmp_path / "safe" / name
    checks = release.release_tables(
        {name: source}, {name: target}, tmp_path / "safe" / "checks.csv", CBS, n_params=50
    )
    return pl.read_csv(target, infer_schema_length=None), checks


def test_cell_of_nine_and_its_complement_are_suppressed(tmp_path):
    safe, checks = release_one(tmp_path, "tables/table1.csv", TABLE1)
    sex = safe.filter(pl.col("characteristic") == "sex")
    # 9 women: primary; the published sex total would give them back from the men, so the men
    # (the only other level) go too, with their percentages
    assert sex.filter(pl.col("level") == "woman")["n"].to_list() == [None]
    assert sex.filter(pl.col("level") == "man")["n"].to_list() == [None]
    assert sex.filter(pl.col("level") == "total")["n"].to_list() == [209]
    assert sex.filter(pl.col("level") != "total")["pct"].null_count() == 2
    debts = safe.filter(pl.col("characteristic") == "debts")
    assert debts["n"].null_count() == 0
    status = {(r["check"], r["stage"]): r["status"] for r in checks.iter_rows(named=True)}
    assert status[("min_count", "suppress")] == "suppressed"
    assert status[("secondary", "suppress")] == "suppressed"
    assert status[("margins", "prepare")] == "pass"


def test_share_with_n_times_p_of_eight_is_suppressed(tmp_path):
    safe, checks = release_one(tmp_path, "tables/table2.csv", TABLE2)
    matching = safe.filter(pl.col("department") == "matching").row(0, named=True)
    # 100 clients, 8 started: n*p = 8 < 10, so neither the count nor the share is shown
    assert matching["n_started"] is None and matching["pct_started"] is None
    assert matching["n"] == 100
    assert safe.filter(pl.col("department") == "prematching")["n_started"].to_list() == [50]
    proportions = checks.filter(pl.col("check") == "proportions")["status"].to_list()
    assert proportions == ["suppressed"]
    # the cohort total was added so that it protects the cells; and with it, the started total
    # would give back the suppressed 8: it is suppressed as well (secondary)
    total = safe.filter(pl.col("department") == "total").row(0, named=True)
    assert total["n"] == 450


def test_flow_step_excluding_few_persons_is_suppressed():
    flow = pl.DataFrame(
        {"step": ["a", "b", "c", "d"], "description": ["", "", "", ""], "n": [500, 495, 495, 300]}
    )
    safe, hidden = release.protect_flow(flow)
    # 5 excluded at b: b goes; c would show the same 5 against a, so it goes too
    assert safe["n"].to_list() == [500, None, None, 300]
    assert hidden == ["b", "c"]


def test_time_to_work_is_coarsened_to_safe_points():
    months = list(range(1, 13))
    table = pl.DataFrame(
        {
            "chronic": ["0"] * 12,
            "month": months,
            "at_risk": [100, 95, 90, 80, 70, 60, 50, 40, 30, 20, 12, 8],
            "events": [5] * 12,
            "cumulative_events": [5 * m for m in months],
            "pct_started": [float(m) for m in months],
        }
    )
    coarse = release.coarsen_time_to_work(table, "chronic", step=3)
    assert coarse["month"].to_list() == [3, 6, 9]  # month 12: only 8 at risk
    assert coarse["events"].to_list() == [15, 15, 15]
    assert (coarse["at_risk"] >= 10).all()


def test_leniency_bins_hold_enough_clients_and_no_extremes():
    import numpy as np

    rng = np.random.default_rng(1)
    n = 3000
    caseworker = rng.integers(0, 40, n)
    lean = np.linspace(-0.2, 0.2, 40)[caseworker]
    departments = np.where(
        rng.random(n) < 0.45 + lean,
        "matching",
        np.where(rng.random(n) < 0.6, "prematching", "activering"),
    )
    cohort = pl.DataFrame(
        {
            "caseworker": [f"cw{c}" for c in caseworker],
            "cell": [f"cell{c % 4}" for c in caseworker],
            "department": departments,
        }
    )
    bins = release.leniency_bins(cohort)
    assert set(bins["department"]) == {"matching", "prematching", "activering"}
    assert (bins["n"] >= 10).all()
    assert (bins["n_referred"] >= 10).all() and ((bins["n"] - bins["n_referred"]) >= 10).all()
    assert sdc.check_extremes(bins) == []
    matching = bins.filter(pl.col("department") == "matching")
    assert matching["slope"][0] > 0  # referral rises with the caseworker's propensity
    # bin edges lie on the grid, not at data values
    width = (matching["upper"] - matching["lower"]).min()
    assert all(abs(x / width - round(x / width)) < 1e-6 for x in matching["lower"])


def bundle_inputs(tmp_path: Path) -> dict:
    safe = tmp_path / "safe"
    table2 = release.table2_with_total(TABLE2.with_columns(n_started=pl.lit(30)))
    table2 = table2.with_columns(pct_started=(100 * pl.col("n_started") / pl.col("n")).round(1))
    (safe / "tables").mkdir(parents=True)
    table2.write_csv(safe / "tables" / "table2.csv")
    figure = tmp_path / "figures" / "table2.svg"
    figure.parent.mkdir()
    figure.write_text('<svg><text x="1">30 started</text></svg>\n')
    report = tmp_path / "report.html"
    report.write_text("<!DOCTYPE html><html><body><p>N = 450</p></body></html>\n")
    earlier = pl.DataFrame(
        {
            "file": ["tables/table2.csv"],
            "check": ["margins"],
            "status": ["pass"],
            "detail": [""],
            "stage": ["prepare"],
        }
    )
    return {
        "tables": {"tables/table2.csv": safe / "tables" / "table2.csv"},
        "figures": {"figures/table2.svg": figure},
        "figure_sources": {"table2": ["tables/table2.csv"]},
        "report": report,
        "earlier": earlier,
        "out_dir": tmp_path / "export",
        "thresholds": CBS,
    }


def test_export_bundle_holds_checked_files_and_every_stage(tmp_path):
    inputs = bundle_inputs(tmp_path)
    checks = release.export_bundle(**inputs)
    out = tmp_path / "export"
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["figures/table2.svg", "output_check.csv", "report.html", "tables/table2.csv"]
    on_disk = pl.read_csv(out / "output_check.csv")
    assert on_disk.columns == ["file", "check", "status", "detail", "stage"]
    assert on_disk.height == checks.height
    assert set(on_disk["stage"]) == {"prepare", "final"}
    assert set(on_disk["status"]) <= {"pass", "suppressed"}
    sources = on_disk.filter(
        (pl.col("file") == "figures/table2.svg") & (pl.col("check") == "sources")
    )
    assert sources["status"].to_list() == ["pass"]


@pytest.mark.parametrize("where", ["report", "figure", "table"])
def test_rin_like_number_in_any_output_fails_the_export(tmp_path, where):
    inputs = bundle_inputs(tmp_path)
    inputs["out_dir"].mkdir()  # an earlier export: it must not survive a failed build
    if where == "report":
        inputs["report"].write_text(f"<html><body><p>client {RIN}</p></body></html>\n")
        name = "report.html"
    elif where == "figure":
        inputs["figures"]["figures/table2.svg"].write_text(f"<svg><text>{RIN}</text></svg>\n")
        name = "figures/table2.svg"
    else:
        path = inputs["tables"]["tables/table2.csv"]
        path.write_text(path.read_text() + f"other {RIN},10,0,0.0\n")
        name = "tables/table2.csv"
    with pytest.raises(sdc.DisclosureError) as error:
        release.export_bundle(**inputs)
    message = str(error.value)
    assert f"{name} [identifiers]" in message
    assert RIN not in message and "123456" not in message
    assert not inputs["out_dir"].exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- the rules in a real run -------------------------------------------------------------------


def test_export_of_the_run_passed_the_output_check(results):
    out = results / "export"
    checks = pl.read_csv(out / "output_check.csv")
    assert set(checks["status"]) <= {"pass", "suppressed"}
    exported = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert ".snakemake_timestamp" not in exported  # nothing in the bundle that was not checked
    exported.discard(".snakemake_timestamp")
    assert set(checks["file"]) | {"output_check.csv"} == exported
    assert "report.html" in exported
    assert {f"figures/{n}.png" for n in ("leniency", "prevalence", "estimates")} <= exported
    assert not any(name.endswith(".parquet") for name in exported)
    assert [name for name in exported if name.endswith(".html")] == ["report.html"]
    # every exported file was re-checked at the end, after the suppression stage
    final = checks.filter(pl.col("stage") == "final")
    assert set(final["file"]) == set(checks["file"]) - {""}
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in sdc.TEXT_SUFFIXES:
            assert sdc.check_file(path) == [], path


def run_snakemake(snapshot: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        str(Path(sys.executable).parent / "snakemake"),
        *args,
        "--cores",
        "1",
        "--config",
        f"data_dir={data_dir}",
        f"snapshot={snapshot}",
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def copied_run(results, synthetic_dir):
    """A copy of the session's run under another snapshot name, to break without harm."""
    snapshot = f"pytest-copy-{uuid.uuid4().hex[:8]}"
    target = ROOT / "results" / snapshot
    shutil.copytree(results, target, copy_function=shutil.copy2)
    yield snapshot, target
    shutil.rmtree(target, ignore_errors=True)


def test_export_rule_fails_naming_file_and_check_and_leaves_no_export(copied_run, synthetic_dir):
    snapshot, run = copied_run
    report = run / "report.html"
    report.write_text(report.read_text().replace("</main>", f"<p>{RIN}</p></main>"))
    result = run_snakemake(
        snapshot,
        synthetic_dir,
        f"results/{snapshot}/export/output_check.csv",
        "--forcerun",
        "export",
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "report.html [identifiers]" in output
    assert RIN not in output
    assert not (run / "export").exists()


def test_unsafe_table_stops_the_safe_stage_with_a_clear_message(copied_run, synthetic_dir):
    snapshot, run = copied_run
    table2 = run / "tables" / "table2.csv"
    table2.write_text(table2.read_text() + f"zorg {RIN},12,0,0.0\n")
    result = run_snakemake(snapshot, synthetic_dir, f"results/{snapshot}/safe/checks/tables.csv")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    log = (run / "logs" / "disclose_tables.log").read_text()
    assert "Error in rule disclose_tables" in output
    assert "export blocked by CBS output rules" in log
    assert "tables/table2.csv [identifiers]" in log
    assert RIN not in output + log
    assert not (run / "safe" / "tables" / "table2.csv").exists()


def test_models_of_small_subgroups_are_left_out_and_recorded(tmp_path):
    het = pl.DataFrame(
        {
            "characteristic": ["sex", "education"],
            "level": ["woman", "unknown"],
            "treatment": ["matching", "matching"],
            "coef": [0.1, 0.4],
            "se": [0.03, 0.3],
            "n": [3000, 40],
            "n_clusters": [60, 25],
        }
    )
    safe, checks = release_one(tmp_path, "validity/heterogeneity.csv", het)
    assert safe["level"].to_list() == ["woman"]
    assert safe["df_resid"].to_list() == [59]  # clusters - 1 bounds the residual df
    note = checks.filter(pl.col("check") == "small_models").row(0, named=True)
    assert note["status"] == "suppressed" and "level=unknown" in note["detail"]
    assert "40" not in note["detail"]
    final = checks.filter((pl.col("check") == "residual_df") & (pl.col("stage") == "suppress"))
    assert final["status"].to_list() == ["pass"]


def test_output_check_rows_read_stage_by_stage_then_file_by_file():
    rows = [  # as the jobs hand them over: tables, then the linkage report, then validity
        ("tables/t1.csv", "min_count", "prepare"),
        ("tables/t1.csv", "dominance", "suppress"),
        ("tables/t1.csv", "min_count", "suppress"),
        ("qc/linkage.csv", "min_count", "suppress"),
        ("validity/v.csv", "margins", "prepare"),
        ("old.csv", "min_count", ""),
        ("figures/f.png", "identifiers", "final"),
    ]
    checks = pl.DataFrame(
        [(f, c, "pass", "", s) for f, c, s in rows],
        schema=list(release.CHECK_COLUMNS),
        orient="row",
    )
    ordered = release.in_stage_order(checks)
    assert ordered.select("file", "check", "stage").rows() == [
        ("tables/t1.csv", "min_count", "prepare"),
        ("validity/v.csv", "margins", "prepare"),
        ("qc/linkage.csv", "min_count", "suppress"),
        ("tables/t1.csv", "dominance", "suppress"),  # a file's checks in the order they ran
        ("tables/t1.csv", "min_count", "suppress"),
        ("figures/f.png", "identifiers", "final"),
        ("old.csv", "min_count", ""),
    ]


def lenient_cohort(n: int = 3000, caseworkers: int = 40):
    import numpy as np

    rng = np.random.default_rng(1)
    caseworker = rng.integers(0, caseworkers, n)
    lean = np.linspace(-0.2, 0.2, caseworkers)[caseworker]
    departments = np.where(
        rng.random(n) < 0.45 + lean,
        "matching",
        np.where(rng.random(n) < 0.6, "prematching", "activering"),
    )
    return pl.DataFrame(
        {
            "caseworker": [f"cw{c}" for c in caseworker],
            "cell": [f"cell{c % 4}" for c in caseworker],
            "department": departments,
        }
    )


def test_every_leniency_bin_describes_at_least_min_caseworkers():
    cohort = lenient_cohort()
    loose = release.leniency_bins(cohort, min_caseworkers=1)
    assert (loose["n_caseworkers"] < 3).any()  # without the rule some bins are one or two
    for minimum in (3, 5):
        bins = release.leniency_bins(cohort, min_caseworkers=minimum)
        assert (bins["n_caseworkers"] >= minimum).all()
        assert bins["n_caseworkers"].min() == minimum or bins.height < loose.height


def test_a_leniency_table_with_too_few_caseworkers_in_a_bin_is_not_released(tmp_path):
    bins = release.leniency_bins(lenient_cohort(), min_caseworkers=3)
    source = tmp_path / "leniency.csv"
    bins.write_csv(source)
    name = "tables/leniency.csv"
    checks = release.release_tables(
        {name: source}, {name: tmp_path / "ok.csv"}, tmp_path / "c.csv", CBS, n_params=50
    )
    assert "min_caseworkers" in set(checks["check"])
    bins.with_columns(n_caseworkers=pl.lit(2)).write_csv(source)  # one below the minimum
    with pytest.raises(sdc.DisclosureError, match="fewer than 3 caseworkers"):
        release.release_tables(
            {name: source}, {name: tmp_path / "no.csv"}, tmp_path / "d.csv", CBS, n_params=50
        )


def test_no_single_caseworker_propensity_is_released(results):
    compliers = pl.read_csv(results / "safe" / "validity" / "compliers.csv")
    assert "z_low" not in compliers.columns and "z_high" not in compliers.columns
    assert "share_compliers" in compliers.columns
    leniency = pl.read_csv(results / "safe" / "tables" / "leniency.csv")
    assert (leniency["n_caseworkers"] >= 3).all()


def test_subgroup_counts_cannot_be_subtracted_to_fewer_than_min_persons():
    def table(low: int, high: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "characteristic": ["all", "education", "education", "sex", "sex"],
                "level": ["all", "low", "high", "man", "woman"],
                "treatment": ["matching"] * 5,
                "estimator": ["ujive"] * 5,
                "n": [500, low, high, 250, 250],
            }
        )

    safe, hidden = release.protect_partitions(table(300, 191), 10)  # 9 of unknown education
    assert safe["n"].to_list() == [500, 300, None, 250, 250] and hidden == ["education=high"]
    safe, hidden = release.protect_partitions(table(300, 190), 10)  # exactly 10: releasable
    assert safe["n"].to_list() == [500, 300, 190, 250, 250] and hidden == []
    estimates = pl.DataFrame(
        {
            "subgroup": ["all", "sex=man", "sex=woman"],
            "treatment": ["matching"] * 3,
            "n": [500, 245, 250],
        }
    )
    safe, hidden = release.protect_partitions(estimates, 10)
    assert safe["n"].to_list() == [500, None, 250] and hidden == ["sex=man"]


def test_linked_persons_are_suppressed_where_few_persons_are_unlinked():
    linkage = pl.DataFrame(
        {"source": ["a", "b", "c"], "persons": [100, 100, 100], "linked_persons": [95, 90, 100]}
    )
    safe, hidden = release.protect_differences(linkage, [("persons", "linked_persons")], 10)
    assert safe["linked_persons"].to_list() == [None, 90, 100]
    assert hidden == ["linked_persons of a"]


def test_intervention_cells_are_checked_on_persons_not_registrations(tmp_path):
    from wwvw.ingest.interventions import summary_by_category

    # 12 registrations of 3 persons in TAAL/fuzzy; 40 persons in TAAL/exact
    registrations = pl.DataFrame(
        {
            "RINPERSOONS": ["R"] * 52,
            "RINPERSOON": [f"{i % 3:09d}" for i in range(12)]
            + [f"{100 + i:09d}" for i in range(40)],
            "INTERVENTIE": ["Taalcurus"] * 12 + ["Taalcursus"] * 40,
            "category": ["TAAL"] * 52,
            "method": ["fuzzy"] * 12 + ["exact"] * 40,
        }
    )
    summary = summary_by_category(registrations)
    fuzzy = summary.filter(pl.col("method") == "fuzzy").row(0, named=True)
    assert (fuzzy["rows"], fuzzy["persons"]) == (12, 3)
    source = tmp_path / "summary.csv"
    summary.write_csv(source)
    name = "qc/interventions.csv"
    release.release_tables(
        {name: source}, {name: tmp_path / "safe.csv"}, tmp_path / "c.csv", CBS, n_params=50
    )
    safe = pl.read_csv(tmp_path / "safe.csv")
    hidden = safe.filter(pl.col("method") == "fuzzy").row(0, named=True)
    assert hidden["persons"] is None and hidden["rows"] is None  # 12 registrations, 3 persons


def test_a_models_n_cannot_be_subtracted_from_the_published_cohort_size():
    models = pl.DataFrame({"model": ["iv", "iv", "iv"], "n": [5988, 5983, 5978]})
    safe, hidden = release.protect_against_total(models, 5988, 10)
    # 5 left out: suppressed; exactly 10 left out: releasable; none left out: releasable
    assert safe["n"].to_list() == [5988, None, 5978] and hidden == 1
    assert release.protect_against_total(models, None, 10)[0].equals(models)
