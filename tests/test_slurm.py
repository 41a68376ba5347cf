"""The SLURM profile (workflow/profiles/slurm): it sizes only rules of the workflow and a dry run
applies it; with WWVW_SLURM=1, the whole workflow on a real single-node SLURM cluster on localhost
(scripts/dev/slurm_local.sh: installs Debian's slurm-wlm, needs root, takes about 10 minutes)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROFILE = ROOT / "workflow" / "profiles" / "slurm" / "config.yaml"


def run(*args, timeout=None):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def profile() -> dict:
    return yaml.safe_load(PROFILE.read_text())


def evaluate(expression, attempt: int) -> int:
    return int(eval(str(expression), {}, {"attempt": attempt}))  # the profile's own numbers


def test_profile_uses_the_slurm_executor_with_defaults_for_every_job(profile):
    assert profile["executor"] == "slurm"
    assert profile["jobs"] > 0 and profile["retries"] >= 0
    assert {"mem_mb", "runtime"} <= set(profile["default-resources"])


def test_profile_sizes_only_rules_of_the_workflow_and_each_fully(profile):
    listed = run(str(BIN / "snakemake"), "--list-rules")
    assert listed.returncode == 0, listed.stderr
    rules = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert set(profile["set-resources"]) <= rules, "profile names a rule the workflow lacks"
    assert set(profile["set-threads"]) <= rules, "profile names a rule the workflow lacks"
    for rule, resources in profile["set-resources"].items():
        assert {"mem_mb", "runtime"} <= set(resources), rule
        for attempt in (1, 2):
            assert evaluate(resources["mem_mb"], attempt) >= 1000 * attempt, rule
            assert evaluate(resources["runtime"], attempt) >= 5 * attempt, rule
        assert profile["set-threads"][rule] >= 1


@pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason="the SLURM executor plugin is installed with `uv sync --locked --group cluster`",
)
def test_dry_run_with_the_profile_applies_its_resources(profile):
    result = run(
        str(BIN / "snakemake"),
        "-n",
        "--forceall",
        "--profile",
        "workflow/profiles/slurm",
        "--config",
        "snapshot=slurm-dry-run",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = re.findall(r"^rule (\w+):\n((?:    .*\n)+)", result.stdout, flags=re.M)
    assert jobs
    for rule, block in jobs:
        if rule not in profile["set-resources"]:
            continue
        wanted = profile["set-resources"][rule]
        assert f"mem_mb={evaluate(wanted['mem_mb'], 1)}," in block, (rule, block)
        assert re.search(rf"runtime={evaluate(wanted['runtime'], 1)}\b", block), (rule, block)


@pytest.mark.slurm
@pytest.mark.skipif(
    os.environ.get("WWVW_SLURM") != "1",
    reason="set WWVW_SLURM=1 (as root, on Debian) to run the workflow on a local SLURM cluster",
)
def test_workflow_runs_on_a_local_slurm_cluster():
    result = run("bash", "scripts/dev/slurm_local.sh", timeout=3600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert re.search(r"PASSED: \d+ SLURM jobs COMPLETED", output), output[-5000:]
