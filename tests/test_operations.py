"""Reviewers and scheduled reruns: byte-identical reruns, minimal reruns, provenance, comparison,
the scheduled-run script."""

import fcntl
import hashlib
import json
import re
import subprocess
import uuid
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, snakemake

# files that record the run itself rather than its results
RUN_RECORDS = re.compile(r"(^logs/|^benchmarks/|^provenance\.json$)")


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not RUN_RECORDS.search(str(p.relative_to(folder)))
    }


def jobs_planned(run: subprocess.CompletedProcess) -> set[str]:
    """Rule names in a dry run's job table."""
    table = run.stdout.split("Job stats:")[-1]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", table, re.M)} - {"total", "all"}


@pytest.fixture(scope="module")
def reference(results):
    return digests(results)


def test_forcing_one_rule_reproduces_identical_bytes(results, synthetic_dir, reference):
    run = snakemake(synthetic_dir, results.name, "all", "--forcerun", "describe", "assemble_cohort")
    assert run.returncode == 0, run.stderr[-2000:]
    assert digests(results) == reference


def test_forcing_everything_reproduces_identical_bytes(results, synthetic_dir, reference):
    run = snakemake(synthetic_dir, results.name, "all", "--forceall")
    assert run.returncode == 0, run.stderr[-2000:]
    assert digests(results) == reference


def test_nothing_to_do_when_nothing_changed(results, synthetic_dir):
    run = snakemake(synthetic_dir, results.name, "all", "-n")
    assert run.returncode == 0 and "Nothing to be done" in run.stdout + run.stderr


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "override.yaml"
    path.write_text(text)
    return str(path)


# rules upstream of the descriptive tables and of estimation
DATA_STAGE = {"ingest_cbs", "clean_municipal", "harmonise_interventions", "linkage_report",
              "local_registers", "study_population", "analysis_cohort", "characteristics", "assemble_cohort"}  # fmt: skip


def test_changing_a_table_setting_reruns_only_that_table_and_what_follows(
    results, synthetic_dir, tmp_path
):
    override = config_file(tmp_path, "interventions:\n  min_participants: 20\n")
    run = snakemake(synthetic_dir, results.name, "all", "-n", "--configfile", override)
    assert run.returncode == 0, run.stderr[-2000:]
    planned = jobs_planned(run)
    assert "describe" in planned and "provenance" in planned
    assert not planned & (DATA_STAGE | {"estimate", "collect_estimates", "chronic_prevalence"})
    assert not {p for p in planned if p.startswith("validity_")}


def test_changing_the_cohort_window_reruns_the_data_stage_but_not_ingest(
    results, synthetic_dir, tmp_path
):
    override = config_file(tmp_path, "cohort:\n  referral_window_months: 5\n")
    run = snakemake(synthetic_dir, results.name, "all", "-n", "--configfile", override)
    assert run.returncode == 0, run.stderr[-2000:]
    planned = jobs_planned(run)
    assert {"analysis_cohort", "estimate"} <= planned
    # the registers restricted to the study's persons do not depend on the window
    assert not planned & {
        "ingest_cbs",
        "clean_municipal",
        "harmonise_interventions",
        "linkage_report",
        "local_registers",
    }


def test_provenance_records_inputs_config_packages_code_and_runtimes(results, synthetic_dir):
    document = json.loads((results / "provenance.json").read_text())
    files = {row["file"]: row for row in document["inputs"]}
    assert files["cbs/GBAPERSOON2018TABV2.sav"]["used_as"] == "persons"
    assert files["cbs/GBAPERSOON2018TABV1.sav"]["used_as"] is None
    assert files["cbs/VRLHOOGSTEOPL2016TABV4.sav"]["provisional"] is True
    assert all(len(row["sha256"]) == 64 for row in document["inputs"])
    assert document["config"]["snapshot"] == results.name
    assert "duckdb" in document["packages"] and "snakemake" in document["packages"]
    assert document["code"]["commit"]
    assert {"study_population", "describe"} <= {r["job"] for r in document["runtimes"]}


def test_two_snapshots_side_by_side_and_their_comparison(results, synthetic_dir, tmp_path):
    """A later delivery with more registrations, run beside the first, then compared."""
    later = tmp_path / "later"
    for sub in ("cbs", "municipal"):
        (later / sub).mkdir(parents=True)
        for f in (synthetic_dir / sub).iterdir():
            (later / sub / f.name).symlink_to(f)
    benefits = (synthetic_dir / "municipal" / "uitkeringen.csv").read_bytes()
    (later / "municipal" / "uitkeringen.csv").unlink()
    extra = b"R;999999991;PW;01-01-2019;\r\n"
    (later / "municipal" / "uitkeringen.csv").write_bytes(benefits + extra)
    snapshot = f"pytest-later-{uuid.uuid4().hex[:6]}"
    try:
        run = snakemake(later, snapshot, "all")
        assert run.returncode == 0, run.stderr[-2000:]
        target = f"results/compare/{results.name}_vs_{snapshot}.md"
        run = snakemake(synthetic_dir, results.name, target)
        assert run.returncode == 0, run.stderr[-2000:]
        report = (ROOT / target).read_text()
        assert "| municipal/uitkeringen.csv | changed |" in report
        assert "| cbs/SECMBUS2018V1.sav | unchanged |" in report
        assert "## cohort/flow.csv" in report and "## tables/table2.csv" in report
    finally:
        for path in (ROOT / "results" / snapshot, ROOT / "results" / "compare"):
            subprocess.run(["rm", "-rf", str(path)], check=False)


def test_scheduled_run_refuses_to_overlap_and_reports_usage(tmp_path):
    script = ROOT / "scripts" / "ops" / "scheduled_run.sh"
    assert subprocess.run(["bash", str(script)], capture_output=True).returncode == 64
    (ROOT / "results").mkdir(exist_ok=True)
    with open(ROOT / "results" / ".scheduled.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run = subprocess.run(
            ["bash", str(script), "resources/synthetic", "pytest-locked", "-n"],
            capture_output=True,
            text=True,
        )
    assert run.returncode == 75 and "another scheduled run" in run.stderr
    subprocess.run(["rm", "-rf", str(ROOT / "results" / "pytest-locked")], check=False)


def test_flow_counts_are_integers_in_order(results):
    flow = pl.read_csv(results / "cohort" / "flow.csv")
    assert flow["n"].dtype.is_integer()
