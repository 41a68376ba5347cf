"""Benchmark the workflow at several synthetic scales: per-rule wall time and peak memory, the floors,
the ratios, and cost against input size; or the estimation alone against the cohort size.

    uv run python scripts/ops/benchmark.py --scales 1 10 50 [--keep-data] [--out results/benchmark]
    uv run python scripts/ops/benchmark.py --estimation 6000 24000 96000 [--out results/benchmark]

--estimation N...: the headline specification of config/specifications.yaml (2SLS, UJIVE, JIVE1
with covariates, every standard-error type) on simulated cohorts of N clients with about 100
clients per caseworker (more locations as N grows), each in a fresh process; writes
estimation.csv with n, caseworkers, seconds, peak_mb (the process's peak resident memory,
simulation included) and coef (the headline Matching UJIVE).

Options: --reuse-conversion keeps the converted files of an earlier run of the scale (the
conversion is one-off; to re-measure the rest after a change); --summary-only combines the last
run of each scale (its <snapshot>-summary.json, floors as measured in that run) into one table and
plot without running anything.

For each scale: generate the synthetic snapshot once (resources/bench-scale-<s>/, kept with
--keep-data; an existing one is reused), run the workflow on it from scratch (snapshot
bench-scale-<s>) in two timed parts, the one-off conversion (`--until ingest_cbs input_manifest`,
the jobs that read the delivered files) and then everything else, then a no-op rerun; then measure
two floors in the same run:
- analysis floor: DuckDB scanning once every input column the workflow uses from the Parquet
  files that ingest wrote (results/<snapshot>/raw/*.parquet);
- conversion floor: reading each chosen .sav file once, every column, with polars-readstat, the
  reader the conversion uses (the one-off conversion's unavoidable cost; files for which
  `wwvw.ingest.cbs.pyreadstat_reasons` finds a reason go to the slower pyreadstat instead, and the
  synthetic files give none).
Also the CPU seconds of everything after the conversion (Snakemake and its jobs, from the kernel's
accounting of child processes; Snakemake's own `cpu_time` is sampled and misses most of a short
job) over the processors: a lower bound on that part's wall time on this machine, whatever the
scheduling. The Vega bundle of the HTML figures is built once per installation (results/vega/),
before the timed runs.
Writes results/benchmark/rules.csv (per job), summary.csv (per scale: input rows, times, floors,
ratios, CPU bound, peak memory) and scaling.png (time against input rows). Absolute times are noisy on shared
machines; the ratios are measured in one run.
"""

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from wwvw.ingest.cbs import sav_chunks_polars_readstat  # noqa: E402 (after its path)


def children_cpu() -> float:
    """User and system CPU seconds of every finished child process and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], log: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and everything it started, e.g. Snakemake and
    its jobs: counted by the kernel, not sampled) of one command."""
    started, cpu = time.perf_counter(), children_cpu()
    with log.open("w") as handle:
        subprocess.run(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started, children_cpu() - cpu


def generate(scale: float, data_dir: Path, log: Path) -> float:
    if (data_dir / "truth" / "summary.json").exists():
        return float("nan")
    command = [sys.executable, "scripts/synthetic_data.py", str(data_dir), "--scale", str(scale)]
    return run(command, log)[0]


def snakemake(
    data_dir: Path, snapshot: str, cores: int, log: Path, *extra: str
) -> tuple[float, float]:
    """Wall and CPU seconds of `snakemake all` on the snapshot."""
    command = [
        str(Path(sys.executable).parent / "snakemake"),
        "all",
        "--cores",
        str(cores),
        *extra,
        "--config",
        f"data_dir={data_dir}",
        f"snapshot={snapshot}",
    ]
    return run(command, log)


# the one-off jobs per delivered snapshot that read the delivered files themselves
CONVERSION_RULES = ("ingest_cbs", "input_manifest")
# what they leave under results/<snapshot>/ (kept by --reuse-conversion)
CONVERSION_OUTPUTS = (
    "raw/*.parquet",
    "qc/validation_*.csv",
    "qc/input_files.json",
    "benchmarks/ingest_cbs_*.tsv",
    "benchmarks/input_manifest.tsv",
)


def clear_results(snapshot: str, keep_conversion: bool) -> None:
    """Remove a snapshot's results (all of them, or all but the conversion's)."""
    results = ROOT / "results" / snapshot
    if not keep_conversion:
        shutil.rmtree(results, ignore_errors=True)
        return
    kept = {path for pattern in CONVERSION_OUTPUTS for path in results.glob(pattern)}
    if not any(path.match("*.parquet") for path in kept):
        sys.exit(f"--reuse-conversion: nothing converted under {results}")
    for path in sorted(results.rglob("*"), reverse=True):
        if path.is_file() and path not in kept:
            path.unlink()


def workflow(
    data_dir: Path, snapshot: str, cores: int, out: Path, reuse_conversion: bool = False
) -> tuple[float, float, float, float]:
    """From scratch (or from the kept conversion): the conversion (every ingest_cbs job, and the
    input manifest, which hashes the same delivered files), then the rest; then a no-op rerun.
    The Vega bundle of the HTML figures (once per installation, under results/vega/) is built
    first, untimed. Returns the three wall times and the CPU seconds of the rest (also in
    <snapshot>-walls.json)."""
    clear_results(snapshot, reuse_conversion)
    snakemake(data_dir, snapshot, cores, out / f"{snapshot}-vega.log", "--until", "vega_bundle")
    conversion, _ = snakemake(
        data_dir,
        snapshot,
        cores,
        out / f"{snapshot}-conversion.log",
        "--until",
        *CONVERSION_RULES,
    )
    analysis, analysis_cpu = snakemake(data_dir, snapshot, cores, out / f"{snapshot}-analysis.log")
    noop, _ = snakemake(data_dir, snapshot, cores, out / f"{snapshot}-noop.log")
    walls = {"conversion": conversion, "analysis": analysis, "noop": noop, "cpu": analysis_cpu}
    (out / f"{snapshot}-walls.json").write_text(json.dumps(walls))
    return conversion, analysis, noop, analysis_cpu


def job_benchmarks(results: Path) -> pl.DataFrame:
    rows = []
    for path in sorted((results / "benchmarks").glob("*.tsv")):
        frame = pl.read_csv(path, separator="\t")
        rows.append(
            {
                "job": path.stem,
                "seconds": float(frame["s"][-1]),
                "max_rss_mib": float(frame["max_rss"][-1])
                if frame["max_rss"].dtype.is_numeric()
                else None,
            }
        )
    return pl.DataFrame(rows)


def analysis_floor(results: Path) -> tuple[float, int]:
    """Seconds for DuckDB to read every column of every ingested table once, and the rows read."""
    con = duckdb.connect()
    rows = 0
    started = time.perf_counter()
    for path in sorted((results / "raw").glob("*.parquet")):
        columns = [
            c[0] for c in con.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        ]
        sums = ", ".join(f"sum(length({c}))" for c in columns)
        result = con.sql(f"SELECT count(*), {sums} FROM read_parquet('{path}')").fetchall()
        rows += result[0][0]
    return time.perf_counter() - started, rows


def read_once(path: Path) -> float:
    """Seconds for polars-readstat to read one .sav file once, in chunks of a million rows, on one
    thread (as ingest does)."""
    started = time.perf_counter()
    for _ in sav_chunks_polars_readstat(path, None, 1_000_000):
        pass
    return time.perf_counter() - started


def conversion_floor(data_dir: Path, chosen: list[str], cores: int) -> float:
    """Summed seconds of reading each chosen .sav file once (per file, one core each, `cores`
    files at a time: the same units as the summed conversion job times)."""
    paths = [data_dir / "cbs" / name for name in chosen if name.endswith(".sav")]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cores, mp_context=context) as pool:
        return sum(pool.map(read_once, sorted(paths, key=lambda p: -p.stat().st_size)))


def chosen_files(results: Path) -> list[str]:
    provenance = json.loads((results / "provenance.json").read_text())
    return sorted(provenance["chosen_cbs_files"].values())


# the jobs that read the national CBS tables (their cost grows with the input, the rest is fixed)
DATA_JOBS = (
    "linkage_report",
    "local_registers",
    "study_population",
    "characteristics_",
    "chronic_prevalence",
)


def earlier_conversion_floor(out: Path, scale: float) -> float | None:
    """The conversion floor of `scale` in an earlier summary.csv (the .sav files do not change)."""
    path = out / "summary.csv"
    if not path.exists():
        return None
    rows = pl.read_csv(path).filter(pl.col("scale") == scale)
    return float(rows["conversion_floor_s"][0]) if rows.height else None


def summarise(
    scale, data_dir, snapshot, generation, walls, cores, known_floor=None
) -> tuple[dict, pl.DataFrame]:
    """One row per scale. Ratios: conversion job-seconds over the serial read floor (both are
    one core's seconds per file); analysis wall time (everything after the conversion, on
    `cores` cores) over the DuckDB scan floor (which uses all cores too); the CPU seconds of that
    part over the processors this process may use (the DuckDB jobs use them all)."""
    conversion, analysis_wall, noop, analysis_cpu = walls
    processors = len(os.sched_getaffinity(0))
    results = ROOT / "results" / snapshot
    jobs = job_benchmarks(results).with_columns(pl.lit(scale).alias("scale"))
    ingest = jobs.filter(pl.col("job").str.starts_with("ingest_cbs"))
    data = jobs.filter(pl.any_horizontal(pl.col("job").str.starts_with(j) for j in DATA_JOBS))
    floor, rows = analysis_floor(results)
    sav_floor = known_floor or conversion_floor(data_dir, chosen_files(results), cores)
    summary = {
        "scale": scale,
        "input_rows_ingested": rows,
        "generation_s": round(generation, 1),
        "conversion_wall_s": round(conversion, 1),
        "conversion_job_s": round(ingest["seconds"].sum(), 1),
        "conversion_floor_s": round(sav_floor, 1),
        "conversion_ratio": round(ingest["seconds"].sum() / sav_floor, 2) if sav_floor else None,
        "analysis_wall_s": round(analysis_wall, 1),
        "analysis_floor_s": round(floor, 2),
        "analysis_ratio": round(analysis_wall / floor, 2) if floor else None,
        # CPU seconds of everything after the conversion (Snakemake and its jobs), and that over
        # the processors: the shortest wall time that work could take here, however scheduled
        "analysis_cpu_s": round(analysis_cpu, 1),
        "analysis_cpu_bound_s": round(analysis_cpu / processors, 1),
        "cpu_bound_ratio": round(analysis_cpu / processors / floor, 2) if floor else None,
        "data_jobs_s": round(data["seconds"].sum(), 1),
        "data_ratio": round(data["seconds"].sum() / floor, 2) if floor else None,
        "end_to_end_wall_s": round(conversion + analysis_wall, 1),
        "noop_rerun_s": round(noop, 1),
        "peak_job_rss_mib": round(jobs["max_rss_mib"].max(), 0),
        "peak_job": jobs.sort("max_rss_mib", descending=True)["job"][0],
    }
    return summary, jobs


def plot(summary: pl.DataFrame, out: Path) -> None:
    import altair as alt

    measures = [
        "end_to_end_wall_s",
        "conversion_wall_s",
        "conversion_floor_s",
        "analysis_wall_s",
        "analysis_floor_s",
        "analysis_cpu_bound_s",  # not in summaries of runs before it was measured
        "data_jobs_s",
    ]
    long = summary.unpivot(
        index=["scale", "input_rows_ingested"],
        on=[m for m in measures if m in summary.columns],
        variable_name="measure",
        value_name="seconds",
    )
    chart = (
        alt.Chart(long.to_pandas())
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "input_rows_ingested:Q",
                title="rows read from the CBS files",
                scale=alt.Scale(type="log"),
            ),
            y=alt.Y("seconds:Q", title="seconds", scale=alt.Scale(type="log")),
            color=alt.Color("measure:N", title=None),
        )
        .properties(title="Cost against input size", width=480, height=300)
    )
    chart.save(str(out / "scaling.png"), scale_factor=2)


CLIENTS_PER_CASEWORKER = 100


def estimation_run(n: int) -> dict:
    """The headline specification on a simulated cohort of `n` clients (in a fresh process)."""
    import yaml
    from wwvw.estimation.simulate import simulate_cohort
    from wwvw.estimation.specifications import run_specifications
    from wwvw.synthetic.design import Design

    specs = yaml.safe_load((ROOT / "config" / "specifications.yaml").read_text())
    headline = next(s for s in specs["specifications"] if s.get("headline"))
    default = Design()
    per_location = default.caseworkers_per_location
    locations = max(1, round(n / CLIENTS_PER_CASEWORKER / per_location))
    design = Design(locations=tuple(f"Werkplein {i:03d}" for i in range(locations)))
    cohort = simulate_cohort(20150105, n_clients=n, design=design)
    started = time.perf_counter()
    estimates, _ = run_specifications(cohort, [headline])
    seconds = time.perf_counter() - started
    row = estimates.filter(
        (pl.col("estimator") == "ujive")
        & (pl.col("regressor") == "matching")
        & (pl.col("se_type") == "hetero")
        & (pl.col("model") == "iv")
    )
    return {
        "n": n,
        "caseworkers": int(cohort["caseworker"].n_unique()),
        "seconds": round(seconds, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "coef": float(row["coef"][0]) if row.height else float("nan"),
    }


def estimation_benchmark(sizes: list[int], out: Path) -> pl.DataFrame:
    """`estimation_run` for each size in its own spawned process (peak memory per size)."""
    rows = []
    context = multiprocessing.get_context("spawn")
    for n in sizes:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            rows.append(pool.submit(estimation_run, n).result())
        print(rows[-1], flush=True)
        pl.DataFrame(rows).write_csv(out / "estimation.csv")
    return pl.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--estimation",
        type=int,
        nargs="+",
        help="time the headline estimation on simulated cohorts of these sizes (nothing else)",
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 50])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--out", default="results/benchmark")
    parser.add_argument("--keep-data", action="store_true", help="keep the generated snapshots")
    parser.add_argument(
        "--reuse-conversion",
        action="store_true",
        help="keep the converted Parquet files of an earlier run of the same scale; rerun the rest",
    )
    parser.add_argument(
        "--reuse-conversion-floor",
        action="store_true",
        help="take the conversion floor of each scale from the summary.csv already in --out",
    )
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="run and measure nothing: combine the saved summary of each scale's last run",
    )
    args = parser.parse_args()
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.estimation:
        print(estimation_benchmark(args.estimation, out))
        return
    summaries, jobs = [], []
    earlier = {scale: earlier_conversion_floor(out, scale) for scale in args.scales}
    for scale in args.scales:
        label = f"bench-scale-{scale:g}"
        data_dir = ROOT / "resources" / label
        # --summary-only runs nothing: it neither generates a missing snapshot nor removes one
        generation = (
            float("nan")
            if args.summary_only
            else generate(scale, data_dir, out / f"{label}-generate.log")
        )
        saved = out / f"{label}-summary.json"
        if args.summary_only:
            # the floors as measured right after that scale's run, not again now: they depend on
            # what the page cache holds, so only floors of the same run make its ratios
            if not saved.exists():
                sys.exit(f"--summary-only: no {saved} (run the benchmark for scale {scale:g})")
            summary = json.loads(saved.read_text())
            job_frame = job_benchmarks(ROOT / "results" / label).with_columns(
                pl.lit(scale).alias("scale")
            )
        else:
            walls = workflow(data_dir, label, args.cores, out, args.reuse_conversion)
            known_floor = earlier[scale] if args.reuse_conversion_floor else None
            summary, job_frame = summarise(
                scale, data_dir, label, generation, walls, args.cores, known_floor
            )
            saved.write_text(json.dumps(summary))
        summaries.append(summary)
        jobs.append(job_frame)
        print(summary, flush=True)
        pl.DataFrame(summaries).write_csv(out / "summary.csv")
        pl.concat(jobs).sort("scale", "job").write_csv(out / "rules.csv")
        if not args.keep_data and not args.summary_only:
            shutil.rmtree(data_dir, ignore_errors=True)
    summary_frame = pl.DataFrame(summaries)
    if len(summaries) > 1:
        plot(summary_frame, out)
    print(summary_frame)


if __name__ == "__main__":
    main()
