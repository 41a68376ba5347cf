"""Bad input: every malformed delivery of the corpus (tests/corpus/build.py) gets its expected
outcome through Snakemake, with a clear message, no Python traceback and no partial output.

The base delivery (cut from the synthetic snapshot) runs through the data stage once. A case
expected to pass starts from a copy of the base's results with their file times, so that Snakemake
(`--rerun-triggers mtime`) reruns only what the changed file feeds. First the reader of that file
runs; when it writes exactly the base's data (a repair that restores the delivery, a change that
does not matter), everything downstream is the base's, tables included. Otherwise the data stage
runs on to the tables. A case expected to fail builds the failing reader's output (or the tables,
when Snakemake must stop while building the DAG). Cases run two at a time, one core each, each
Snakemake forked from a server that has done Snakemake's imports once (corpus/runner.py).
"""

import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from corpus.build import (
    CASES,
    DATA_STAGE,
    ERROR,
    PASS,
    TABLES_COMPARED,
    Case,
    build_base,
    build_case,
    fill,
)
from corpus.runner import ForkedSnakemake
from wwvw.ingest.privacy import check_results
from wwvw.release.disclosure import RIN_LIKE

ROOT = Path(__file__).resolve().parents[1]
TRACEBACK = "Traceback (most recent call last)"
BASE = "corpus-base"


@dataclass
class Run:
    case: Case
    facts: dict
    returncode: int
    output: str
    results: Path
    seconds: float
    reader_as_base: bool = False  # pass: the reader wrote the base's data, downstream is the base's

    def logs(self) -> str:
        folder = self.results / "logs"
        files = sorted(folder.glob("*.log")) if folder.is_dir() else []
        return "\n".join(f.read_text(errors="replace") for f in files)


@dataclass
class Runner:
    """Snakemake on one delivery and snapshot, targets first, from the repository root."""

    forked: ForkedSnakemake

    def __call__(self, targets, data_dir: Path, snapshot: str, cores: int = 1):
        command = [
            *targets,
            "--cores",
            str(cores),
            "--nolock",
            "--rerun-triggers",
            "mtime",
            "--config",
            f"data_dir={data_dir}",
            f"snapshot={snapshot}",
        ]
        return self.forked.run(command, ROOT)

    def data_stage(self, data_dir: Path, snapshot: str, cores: int = 1):
        return self([f"results/{snapshot}/{t}" for t in DATA_STAGE], data_dir, snapshot, cores)


def run_case(case: Case, base: Path, root: Path, snakemake: Runner) -> Run:
    """Build the case's delivery, run it, and for a pass case go on to the tables unless the
    reader wrote exactly the base's data."""
    started = time.perf_counter()
    snapshot = f"corpus-{case.name}"
    results = ROOT / "results" / snapshot
    shutil.rmtree(results, ignore_errors=True)
    delivery = root / case.name
    facts = build_case(case, base, delivery)
    if case.outcome == PASS:
        shutil.copytree(ROOT / "results" / BASE, results, copy_function=shutil.copy2)
    done = snakemake(case.targets(snapshot), delivery, snapshot)
    output = done.stdout + done.stderr
    same = False
    if case.outcome == PASS and done.returncode == 0:
        reader = case.reader_output()
        ours, base_data = results / reader, ROOT / "results" / BASE / reader
        same = pl.read_parquet(ours).equals(pl.read_parquet(base_data))
        if not same:
            done = snakemake.data_stage(delivery, snapshot)
            output += done.stdout + done.stderr
    seconds = time.perf_counter() - started
    return Run(case, facts, done.returncode, output, results, seconds, same)


def selected_cases(request) -> list[Case]:
    names = {
        item.callspec.params["case"].name
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    return [c for c in CASES if c.name in names]


@pytest.fixture(scope="module")
def corpus(request, synthetic_dir, tmp_path_factory):
    """Every selected case run once (pass cases first: they take longest); {name: Run}."""
    cases = sorted(selected_cases(request), key=lambda c: c.outcome != PASS)
    root = tmp_path_factory.mktemp("corpus")
    started = time.perf_counter()
    snakemake = Runner(ForkedSnakemake())
    base = build_base(synthetic_dir, root / "base")
    snapshots = [BASE, *(f"corpus-{c.name}" for c in cases)]
    try:
        if any(c.outcome == PASS for c in cases):
            done = snakemake.data_stage(base, BASE, cores=2)
            assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = pool.map(lambda c: run_case(c, base, root, snakemake), cases)
            runs = {run.case.name: run for run in runs}
        yield runs
        print_summary(runs, time.perf_counter() - started)
    finally:
        for snapshot in snapshots:
            shutil.rmtree(ROOT / "results" / snapshot, ignore_errors=True)


def print_summary(runs: dict[str, Run], seconds: float) -> None:
    lines = [f"corpus: {len(runs)} cases in {seconds:.0f} s"]
    for run in runs.values():
        observed = "pass" if run.returncode == 0 else f"error (exit {run.returncode})"
        traceback = "TRACEBACK" if TRACEBACK in run.output + run.logs() else "no traceback"
        reader = "reader wrote the base's data" if run.reader_as_base else ""
        lines.append(
            f"  {run.case.name:40s} expected {run.case.outcome:5s} observed {observed:16s} "
            f"{traceback} {run.seconds:5.1f} s {reader}"
        )
    print("\n".join(lines))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_delivery_gets_its_expected_outcome(case: Case, corpus):
    run = corpus[case.name]
    tail = run.output[-4000:]
    assert TRACEBACK not in run.output, tail
    assert TRACEBACK not in run.logs(), run.logs()[-4000:]
    if run.results.is_dir():
        assert not list(run.results.rglob("*.tmp")), "temporary files left behind"
    if case.outcome == ERROR:
        assert run.returncode != 0, tail
        assert re.search(fill(case.message, run.facts), run.output, re.DOTALL), tail
        if case.rule != "dag":
            assert f"Error in rule {case.rule}" in run.output, tail
        left = [p for p in case.failing_outputs(run.results) if p.exists()]
        assert not left, f"outputs left behind: {left}"
        assert not re.search(RIN_LIKE, run.logs()), "a job log holds a RIN-like number"
    else:
        assert run.returncode == 0, tail
        for target in DATA_STAGE:
            assert (run.results / target).is_file(), target
        for relative, pattern in case.expect_in_files.items():
            text = (run.results / relative).read_text()
            assert re.search(fill(pattern, run.facts), text), f"{relative}:\n{text}"
        if case.same_as_base and not run.reader_as_base:
            for table in TABLES_COMPARED:
                base = (ROOT / "results" / BASE / table).read_bytes()
                assert (run.results / table).read_bytes() == base, f"{table} differs from base"


@pytest.mark.slow
def test_results_of_the_base_delivery_hold_no_identifier(corpus):
    """The text results (tables, flow, qc reports) pass the RIN and person-level scans."""
    results = ROOT / "results" / BASE
    if not (results / "tables" / "table1.csv").is_file():
        pytest.skip("no case expected to pass was selected: the base did not run")
    files = [*results.glob("tables/*.csv"), *results.glob("qc/*.csv"), results / "cohort/flow.csv"]
    assert len(files) > 20
    check_results(files)
