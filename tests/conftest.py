"""Shared fixtures: the synthetic snapshot is generated once per test session into a temp dir."""

import sys
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
