"""Shared fixtures: the synthetic snapshot is generated once per test session into a temp dir."""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


@pytest.fixture(scope="session")
def config() -> dict:
    return load_yaml("config/config.yaml")


@pytest.fixture(scope="session")
def published() -> dict:
    return load_yaml("config/published.yaml")


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory, config, published) -> Path:
    """The default synthetic snapshot, generated exactly as the workflow's rule does."""
    from wwvw.synthetic.generate import generate

    out = tmp_path_factory.mktemp("synthetic")
    groups = load_yaml(config["chronic_conditions"])["groups"]
    generate(out, published, config["cohort"], config["synthetic"], config["municipality"], groups)
    return out


def snakemake(data_dir, snapshot, *args, config=()) -> subprocess.CompletedProcess:
    """Run the workflow in the repository on a data directory under a snapshot name; `config`
    holds further `key=value` overrides."""
    command = [
        str(Path(sys.executable).parent / "snakemake"),
        *args,
        "--cores",
        "2",
        "--config",
        f"data_dir={data_dir}",
        f"snapshot={snapshot}",
        *config,
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="session")
def results(synthetic_dir):
    """Every default target run through Snakemake on the session's synthetic snapshot."""
    snapshot = f"pytest-{uuid.uuid4().hex[:8]}"
    run = snakemake(synthetic_dir, snapshot, "all")
    assert run.returncode == 0, run.stderr[-3000:]
    yield ROOT / "results" / snapshot
    shutil.rmtree(ROOT / "results" / snapshot, ignore_errors=True)
