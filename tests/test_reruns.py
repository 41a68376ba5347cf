"""What a change reruns, on the default run (synthetic generation included) in a copy of the
repository: an edit in a stage's code plans that stage's rules and what follows; a change of one
config key plans the rules that read that key and what follows; and nothing else.

Each case is a dry run after one edit, undone before the next (content and modification time).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent

# outputs by stage, as paths under results/synthetic/ (and resources/synthetic/)
GENERATION = re.compile(r"^resources/synthetic/")
INGEST = re.compile(
    r"^results/synthetic/(raw/|clean/|qc/validation_|qc/cleaning_|qc/interventions)"
)
LINK = re.compile(
    r"^results/synthetic/(local/|qc/linkage\.csv|safe/qc/linkage|safe/checks/linkage)"
)
POPULATION = re.compile(
    r"^results/synthetic/linked/(study_population|population_flow|characteristics_population)"
)
COHORT = re.compile(r"^results/synthetic/(linked/|cohort/)")
ESTIMATION = re.compile(r"^results/synthetic/estimates/")
VALIDITY = re.compile(r"^results/synthetic/validity/")
DESCRIBE = re.compile(r"^results/synthetic/tables/(table|interventions_by|time_to_work|chronic)")


def tracked_copy(destination: Path) -> Path:
    """The repository's files as a fresh clone would have them (plus uncommitted changes)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def snakemake(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "snakemake"), *args, "--cores", "2"], cwd=repo, capture_output=True, text=True
    )


def planned_outputs(repo: Path, *args: str) -> set[str]:
    """Every output path of the jobs a dry run plans."""
    run = snakemake(repo, "-n", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    found = set()
    for line in run.stdout.splitlines():
        match = re.match(r"^\s+output: (.*)$", line)
        if match:
            found.update(path.strip() for path in match.group(1).split(","))
    return found


def planned_rules(repo: Path, *args: str) -> set[str]:
    run = snakemake(repo, "-n", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    return set(re.findall(r"^rule (\w+):$", run.stdout, re.M)) - {"all"}


def matching(paths: set[str], pattern: re.Pattern) -> set[str]:
    return {p for p in paths if pattern.search(p)}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the repository after a complete default run (README command 1)."""
    repo = tracked_copy(tmp_path_factory.mktemp("repo"))
    run = snakemake(repo)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Nothing to be done" in (snakemake(repo, "-n").stdout)
    return repo


class edited:
    """A comment appended to a file, undone on exit with its modification time."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.text = self.path.read_bytes()
        self.stat = self.path.stat()
        self.path.write_bytes(self.text + b"\n# edited\n")
        return self.path

    def __exit__(self, *exc):
        self.path.write_bytes(self.text)
        os.utime(self.path, ns=(self.stat.st_atime_ns, self.stat.st_mtime_ns))


def override(repo: Path, tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "override.yaml"
    path.write_text(text)
    return ["--configfile", str(path)]


# ---------------------------------------------------------------------------- code edits
@pytest.mark.parametrize(
    "module,runs,spared",
    [
        # synthetic generation: the generator and everything after it
        ("synthetic/design.py", {"synthetic_data", "ingest_cbs", "estimate"}, set()),
        # ingest: the CBS conversion, not the generator
        ("ingest/cbs.py", {"ingest_cbs", "local_registers"}, {"synthetic_data"}),
        # municipal extracts: cleaning, not the CBS conversion
        ("ingest/municipal.py", {"clean_municipal"}, {"synthetic_data", "ingest_cbs"}),
        # the linkage code (the restriction shares its address SQL): not ingest or cleaning
        (
            "link/population.py",
            {"study_population", "linkage_report", "chronic_prevalence", "local_registers"},
            {"synthetic_data", "ingest_cbs", "clean_municipal", "harmonise_interventions"},
        ),
        # the cohort selection: not the study population or the linkage report
        (
            "cohort/selection.py",
            {"analysis_cohort", "assemble_cohort", "estimate"},
            {
                "ingest_cbs",
                "clean_municipal",
                "local_registers",
                "study_population",
                "linkage_report",
                "disclose_linkage",
            },
        ),  # fmt: skip
        # estimation: estimation and what follows, no data stage
        (
            "estimation/jackknife.py",
            {"estimate", "collect_estimates", "validity_heterogeneity", "report_html"},
            {
                "ingest_cbs",
                "clean_municipal",
                "harmonise_interventions",
                "local_registers",
                "study_population",
                "analysis_cohort",
                "characteristics",
                "assemble_cohort",
                "describe",
                "linkage_report",
                "chronic_prevalence",
            },
        ),  # fmt: skip
        # one design check: that check, not estimation or the other checks
        (
            "validity/balance.py",
            {"validity_balance", "disclose_validity", "export"},
            {"estimate", "validity_placebo", "assemble_cohort", "disclose_tables"},
        ),
        # the report's text: the report and the export only
        (
            "present/report.py",
            {"report_html", "export"},
            {"figures", "estimate", "disclose_tables", "describe"},
        ),
    ],
)
def test_a_code_edit_reruns_the_rules_that_run_it_and_what_follows(repo, module, runs, spared):
    with edited(repo / "scripts" / "wwvw" / module):
        planned = planned_rules(repo)
    assert runs <= planned, runs - planned
    assert not planned & spared, planned & spared
    assert "Nothing to be done" in snakemake(repo, "-n").stdout


def test_a_code_edit_in_the_estimation_package_plans_no_data_stage_output(repo):
    with edited(repo / "scripts" / "wwvw" / "estimation" / "variance.py"):
        outputs = planned_outputs(repo)
    assert matching(outputs, ESTIMATION)
    for stage in (GENERATION, INGEST, LINK, COHORT, DESCRIBE):
        assert not matching(outputs, stage), matching(outputs, stage)


# ---------------------------------------------------------------------------- config keys
def test_the_referral_window_reruns_the_cohort_and_what_follows_only(repo, tmp_path):
    outputs = planned_outputs(
        repo, *override(repo, tmp_path, "cohort:\n  referral_window_months: 3\n")
    )
    assert "results/synthetic/linked/cohort_referrals.parquet" in outputs
    assert "results/synthetic/linked/characteristics_cohort.parquet" in outputs
    assert matching(outputs, ESTIMATION) and matching(outputs, VALIDITY)
    for stage in (GENERATION, INGEST, LINK, POPULATION):
        assert not matching(outputs, stage), matching(outputs, stage)


@pytest.mark.parametrize(
    "text,runs,spared",
    [
        # the study population's ages: the study population onwards
        (
            "cohort:\n  age_max: 60\n",
            {"study_population", "characteristics", "analysis_cohort"},
            {"synthetic_data", "ingest_cbs", "clean_municipal", "local_registers"},
        ),
        # the outcome: covariates and outcome, not the study population or the cohort selection
        (
            "cohort:\n  work_history_months: 24\n",
            {"characteristics", "estimate"},
            {"synthetic_data", "study_population", "analysis_cohort", "local_registers"},
        ),
        (
            "migration_groups:\n  dutch: ['6030', '6031']\n",
            {"characteristics"},
            {"analysis_cohort", "study_population", "ingest_cbs", "synthetic_data"},
        ),
        (
            "departments:\n  zorg: [Zorg, Care]\n",
            {"clean_municipal"},
            {"ingest_cbs", "synthetic_data"},
        ),
        ("cbs:\n  sav_reader: pyreadstat\n", {"ingest_cbs"}, {"synthetic_data", "clean_municipal"}),
        (
            "interventions:\n  fuzzy_min_score: 90\n",
            {"harmonise_interventions", "describe"},
            {"clean_municipal", "analysis_cohort", "estimate"},
        ),
        (
            "estimation:\n  headline_se_type: 'cluster:caseworker'\n",
            {"collect_estimates", "validity_heterogeneity"},
            {"estimate", "assemble_cohort", "validity_balance"},
        ),
        (
            "validity:\n  permutation_draws: 400\n",
            {"validity_balance", "disclose_validity"},
            {"estimate", "validity_placebo", "validity_exclusion", "disclose_tables"},
        ),
        (
            "disclosure:\n  time_to_work_step: 6\n",
            {"disclose_tables", "figures"},
            {"leniency_bins", "estimate", "describe"},
        ),
        (
            "disclosure:\n  leniency_bins: 15\n",
            {"leniency_bins", "figures"},
            {"estimate", "describe", "validity_balance", "disclose_linkage"},
        ),
        # both reports' figures exist already: report.html becomes the Dutch one, the figures
        # redrawn (the reports rerun only because provenance records the whole config)
        (
            "figures:\n  language: nl\n",
            {"figures", "report_default", "export"},
            {"disclose_tables", "estimate", "describe", "report_figures"},
        ),
        ("synthetic:\n  seed: 7\n", {"synthetic_data", "ingest_cbs"}, set()),
        ("duckdb:\n  memory_mb: 3000\n", set(), {"ingest_cbs", "local_registers"}),
        # provenance records the whole resolved config: it (and the report that prints it) reruns
        ("monte_carlo:\n  replications: 100\n", {"provenance"}, {"estimate", "figures"}),
    ],
)
def test_one_config_key_reruns_the_rules_that_read_it_and_what_follows(
    repo, tmp_path, text, runs, spared
):
    planned = planned_rules(repo, *override(repo, tmp_path, text))
    assert runs <= planned, runs - planned
    assert not planned & spared, planned & spared
