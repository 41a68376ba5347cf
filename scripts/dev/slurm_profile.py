"""Write workflow/profiles/slurm/config.yaml from the measured benchmarks of a run.

    .venv/bin/snakemake --cores 2            # writes results/<snapshot>/benchmarks/*.tsv
    .venv/bin/python scripts/dev/slurm_profile.py [--snapshot synthetic]

Per rule, over every job of the rule (wildcards) in the benchmarks:

- threads: the measured CPU time over wall time, rounded, at least 1 (every rule is 1 today);
- mem_mb: twice the peak resident memory, rounded up to 500 MB, at least 1000 MB and never below
  the rule's own `mem_mb` (DuckDB rules size their memory limit from it), times the attempt;
- runtime (minutes): ten times the wall time, rounded up, at least 5 minutes, times the attempt.

With `retries: 1`, a job killed for memory or time is resubmitted once with twice both. The
numbers are for the default synthetic scale; for real data or `synthetic.scale` > 1 override them
with --set-resources or a profile of your own.
"""

import argparse
import csv
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "workflow" / "profiles" / "slurm" / "config.yaml"

HEADER = """\
# SLURM profile: snakemake --profile workflow/profiles/slurm  (snakemake-executor-plugin-slurm)
# Written by scripts/dev/slurm_profile.py from the benchmarks of one run on a 2-core 24 GiB machine
# at the default synthetic scale (results/{snapshot}/benchmarks); regenerate after a new
# measurement. Headroom: memory 2x the measured peak (at least 1000 MB and the rule's own
# mem_mb), runtime 10x the measured wall time (at least 5 min), both doubled on the one retry.
# Account and partition are the cluster's defaults; to choose them, add slurm_account: and
# slurm_partition: under default-resources (a --default-resources on the command line would
# replace the whole block).
# Checked end to end on a local single-node cluster: bash scripts/dev/slurm_local.sh
executor: slurm
jobs: 20
retries: 1
latency-wait: 60
default-resources:
  mem_mb: 2000 * attempt
  runtime: 30 * attempt
"""


def rule_names() -> list[str]:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "--list-rules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(line.split()[0] for line in result.stdout.splitlines() if line.strip())


def declared_mem_mb() -> dict[str, int]:
    """`mem_mb=N` inside each rule block of workflow/rules/*.smk."""
    declared = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"^rule (\w+):", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            if found := re.search(r"^\s+mem_mb=([\d_]+)", body, flags=re.M):
                declared[name] = int(found.group(1).replace("_", ""))
            elif re.search(r"^\s+mem_mb=DUCKDB_MEMORY_MB", body, flags=re.M):
                declared[name] = duckdb_memory_mb()
    return declared


def duckdb_memory_mb() -> int:
    """duckdb.memory_mb of config/config.yaml (the DuckDB rules' mem_mb)."""
    import yaml

    return int(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["duckdb"]["memory_mb"])


def rule_of(stem: str, rules: list[str]) -> str | None:
    """Benchmark files are <rule>.tsv or <rule>_<wildcards>.tsv: the longest matching rule."""
    matches = [r for r in rules if stem == r or stem.startswith(f"{r}_")]
    return max(matches, key=len) if matches else None


def measured(snapshot: str, rules: list[str]) -> dict[str, dict[str, float]]:
    files = sorted((ROOT / "results" / snapshot / "benchmarks").glob("*.tsv"))
    files += sorted((ROOT / "results" / "benchmarks").glob("*.tsv"))
    if not files:
        sys.exit(f"no benchmarks under results/{snapshot}/benchmarks: run the workflow first")
    out: dict[str, dict[str, float]] = {}
    for path in files:
        rule = rule_of(path.stem, rules)
        if rule is None:
            continue
        for row in csv.DictReader(path.open(), delimiter="\t"):
            seen = out.setdefault(rule, {"s": 0.0, "max_rss": 0.0, "load": 0.0})
            seconds = float(row["s"])
            seen["s"] = max(seen["s"], seconds)
            seen["max_rss"] = max(seen["max_rss"], float(row["max_rss"] or 0))
            seen["load"] = max(seen["load"], float(row["cpu_time"] or 0) / max(seconds, 1e-9))
    return out


def resources(seen: dict[str, float], floor_mb: int) -> dict[str, int]:
    return {
        "threads": max(1, round(seen["load"])),
        "mem_mb": max(1000, floor_mb, math.ceil(2 * seen["max_rss"] / 500) * 500),
        "runtime": max(5, math.ceil(10 * seen["s"] / 60)),
    }


def render(snapshot: str, table: dict[str, dict[str, float]], declared: dict[str, int]) -> str:
    lines = [HEADER.format(snapshot=snapshot).rstrip("\n"), "set-threads:"]
    chosen = {rule: resources(seen, declared.get(rule, 0)) for rule, seen in table.items()}
    lines += [f"  {rule}: {r['threads']}" for rule, r in sorted(chosen.items())]
    lines.append("set-resources:")
    for rule, r in sorted(chosen.items()):
        seen = table[rule]
        lines += [
            f"  # {rule}: measured {seen['s']:.0f} s, peak {seen['max_rss']:.0f} MB",
            f"  {rule}:",
            f"    mem_mb: {r['mem_mb']} * attempt",
            f"    runtime: {r['runtime']} * attempt",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default="synthetic")
    args = parser.parse_args()
    rules = rule_names()
    text = render(args.snapshot, measured(args.snapshot, rules), declared_mem_mb())
    PROFILE.parent.mkdir(parents=True, exist_ok=True)
    PROFILE.write_text(text)
    print(f"wrote {PROFILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
