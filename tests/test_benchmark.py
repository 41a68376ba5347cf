"""The benchmark's summary (scripts/ops/benchmark.py) from job benchmark files and floors: what is
summed, what is divided by what. It runs nothing and times nothing."""

import importlib.util
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "scripts/ops/benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def snapshot():
    name = f"pytest-benchmark-{uuid.uuid4().hex[:8]}"
    yield name
    shutil.rmtree(ROOT / "results" / name, ignore_errors=True)


def job(folder: Path, name: str, seconds: float, rss: float) -> None:
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
    row = f"{seconds}\t0:00:01\t{rss}\t0\t0\t0\t0\t0\t0\t{seconds}"
    (folder / f"{name}.tsv").write_text(f"{header}\n{row}\n")


def test_summary_sums_conversion_and_data_jobs_and_divides_by_the_floors(
    benchmark, snapshot, tmp_path
):
    results = ROOT / "results" / snapshot
    (results / "benchmarks").mkdir(parents=True)
    (results / "raw").mkdir()
    for name, seconds, rss in [
        ("ingest_cbs_secm", 6.0, 900.0),
        ("ingest_cbs_persons", 2.0, 300.0),
        ("linkage_report", 3.0, 500.0),
        ("local_registers", 1.5, 200.0),
        ("characteristics_cohort", 0.5, 100.0),
        ("figures", 4.0, 300.0),
    ]:
        job(results / "benchmarks", name, seconds, rss)
    pl.DataFrame({"RINPERSOON": ["000000001"] * 1000}).write_parquet(results / "raw" / "x.parquet")

    summary, jobs = benchmark.summarise(
        1.0, tmp_path, snapshot, 5.0, (12.0, 30.0, 2.0, 44.0), 2, known_floor=4.0
    )

    assert jobs.height == 6
    assert summary["input_rows_ingested"] == 1000
    assert summary["conversion_job_s"] == 8.0  # the ingest jobs only
    assert summary["conversion_ratio"] == 2.0  # 8 job-s over the 4 s read floor
    assert summary["data_jobs_s"] == 5.0  # linkage, restriction, characteristics; not figures
    # the rest of the run (30 s) over the scan floor, which the summary rounds to 0.01 s
    floor = summary["analysis_floor_s"]
    assert 30.0 / (floor + 0.005) <= summary["analysis_ratio"] <= 30.0 / max(floor - 0.005, 1e-3)
    assert summary["data_ratio"] * 30.0 / summary["analysis_ratio"] == pytest.approx(5.0, rel=1e-2)
    # the measured CPU seconds after the conversion, over the processors the benchmark may use
    processors = len(os.sched_getaffinity(0))
    assert summary["analysis_cpu_s"] == 44.0
    assert summary["analysis_cpu_bound_s"] == round(44.0 / processors, 1)
    ratio = summary["cpu_bound_ratio"] / summary["analysis_ratio"]
    assert ratio == pytest.approx(44.0 / processors / 30.0, rel=1e-2)  # both over the same floor
    assert summary["end_to_end_wall_s"] == 42.0
    assert summary["noop_rerun_s"] == 2.0
    assert (summary["peak_job"], summary["peak_job_rss_mib"]) == ("ingest_cbs_secm", 900.0)


def test_the_cpu_of_a_command_and_its_children_is_counted(benchmark, tmp_path):
    # a child that burns CPU in a grandchild: the kernel counts both once they are waited for
    burn = (
        "import subprocess, sys; subprocess.run([sys.executable, '-c', 'sum(range(30_000_000))'])"
    )
    wall, cpu = benchmark.run([sys.executable, "-c", burn], tmp_path / "burn.log")
    assert cpu > 0.2  # summing 30 million integers takes about a second of one core
    assert cpu <= wall * len(os.sched_getaffinity(0)) + 0.1


def test_summary_only_uses_the_rows_of_each_run_and_neither_generates_nor_removes_data(
    benchmark, tmp_path, monkeypatch
):
    # a scale no real run uses; its label is bench-scale-0.0123
    scale, label = 0.0123, "bench-scale-0.0123"
    results, data = ROOT / "results" / label, ROOT / "resources" / label
    try:
        (results / "benchmarks").mkdir(parents=True)
        job(results / "benchmarks", "ingest_cbs_secm", 6.0, 900.0)
        data.mkdir(parents=True)
        saved = {"scale": scale, "conversion_floor_s": 1.5, "analysis_floor_s": 0.25}
        (tmp_path / f"{label}-summary.json").write_text(json.dumps(saved))

        def must_not_run(*args):
            raise AssertionError("--summary-only ran something")

        monkeypatch.setattr(benchmark, "generate", must_not_run)
        monkeypatch.setattr(benchmark, "workflow", must_not_run)
        monkeypatch.setattr(benchmark, "summarise", must_not_run)  # floors are not re-measured
        argv = ["benchmark.py", "--scales", str(scale), "--summary-only", "--out", str(tmp_path)]
        monkeypatch.setattr(sys, "argv", argv)
        benchmark.main()

        assert pl.read_csv(tmp_path / "summary.csv").to_dicts() == [saved]
        assert pl.read_csv(tmp_path / "rules.csv")["job"].to_list() == ["ingest_cbs_secm"]
        assert data.is_dir()  # without --keep-data too
    finally:
        shutil.rmtree(results, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def test_summary_only_without_a_saved_run_stops_and_measures_nothing(
    benchmark, tmp_path, monkeypatch
):
    def must_not_run(*args):
        raise AssertionError("--summary-only ran something")

    for name in ("generate", "workflow", "summarise"):
        monkeypatch.setattr(benchmark, name, must_not_run)
    argv = ["benchmark.py", "--scales", "0.0123", "--summary-only", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit, match="no .*bench-scale-0.0123-summary.json"):
        benchmark.main()
