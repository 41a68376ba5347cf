"""The workflow as a user meets it: config validation, lint and formatting gates, the DAG."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*args, check=False):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=check)


@pytest.mark.parametrize(
    "override,key",
    [
        ("snapshot=bad name!", "snapshot"),
        ("snapshot=vega", "snapshot"),  # results/vega/ holds the shared Vega bundle
        ("municipality=599", "municipality"),
        ("data_dirr=x", "data_dirr"),
        ("synthetic={'scale': -1}", "scale"),
        ("cbs={'sav_reader': 'haven'}", "sav_reader"),
        ("data_dir=/data/levering{2026}", "data_dir"),  # braces: Snakemake wildcards
    ],
)
def test_bad_config_fails_before_any_job_and_names_the_key(override, key):
    result = run(str(BIN / "snakemake"), "-n", "--config", override)
    assert result.returncode != 0
    assert key in result.stdout + result.stderr


def test_a_municipality_code_on_the_command_line_keeps_its_leading_zero():
    result = run(str(BIN / "snakemake"), "-n", "--config", "municipality=0363")
    assert result.returncode == 0, result.stderr[-2000:]
    result = run(str(BIN / "snakemake"), "-n", "--config", "municipality=363")
    assert result.returncode != 0 and "municipality" in result.stdout + result.stderr


def test_dry_run_builds_the_default_target():
    result = run(str(BIN / "snakemake"), "-n", "--forceall")
    assert result.returncode == 0, result.stderr
    assert "synthetic_data" in result.stdout


def test_the_figures_do_not_wait_for_the_national_linkage_count():
    # at national scale linkage_report ends last: only its own disclosure job, the report and the
    # export may wait for it
    figures = run(
        str(BIN / "snakemake"), "-n", "--forceall", "results/synthetic/figures/leniency.png"
    )
    assert figures.returncode == 0, figures.stderr
    assert "disclose_tables" in figures.stdout and "vega_bundle" in figures.stdout
    assert "linkage_report" not in figures.stdout
    report = run(str(BIN / "snakemake"), "-n", "--forceall", "results/synthetic/report.html")
    assert "linkage_report" in report.stdout and "disclose_linkage" in report.stdout


def test_snakemake_lint_is_clean():
    result = run(str(BIN / "snakemake"), "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_snakefmt_is_clean():
    result = run(str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean():
    lint = run(str(BIN / "ruff"), "check", ".")
    assert lint.returncode == 0, lint.stdout
    fmt = run(str(BIN / "ruff"), "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout
