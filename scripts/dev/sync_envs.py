"""Write the conda environment of the rules (envs/pipeline.yaml) from uv.lock.

    python scripts/dev/sync_envs.py          # rewrite envs/pipeline.yaml after `uv lock`
    python scripts/dev/sync_envs.py --check  # exit 1, with a diff, when it is out of date

The environment is Python of the project's requires-python from conda-forge, and from PyPI every
package of the locked runtime closure at exactly its uv.lock version: the direct dependencies of
pyproject.toml first, then what they depend on (with uv's platform markers). Dev and cluster groups
are left out: a job needs neither. `uv export` computes the closure, so uv must be on PATH (the
README installs it with pip); tests/test_environment.py checks the result against uv.lock itself.
"""

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "envs" / "pipeline.yaml"

HEADER = """\
# Conda environment of every rule (snakemake --sdm conda): Python from conda-forge and, from PyPI,
# exactly the packages and versions in uv.lock that the pipeline runs with (direct dependencies of
# pyproject.toml first, then theirs; no dev or cluster tools). Do not edit: after `uv lock`, run
# python scripts/dev/sync_envs.py; tests/test_environment.py fails when this file drifts.
"""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    return normalise(re.split(r"[=<>!~;\s\[]", line, maxsplit=1)[0])


def python_version(pyproject: dict) -> str:
    found = re.search(r">=\s*(\d+\.\d+)", pyproject["project"]["requires-python"])
    if not found:
        sys.exit("pyproject.toml: requires-python has no lower bound >=X.Y")
    return found.group(1)


def direct_dependencies(pyproject: dict) -> set[str]:
    return {requirement_name(r) for r in pyproject["project"]["dependencies"]}


def uv_command() -> list[str]:
    if uv := shutil.which("uv"):
        return [uv]
    sys.exit("uv is not on PATH: python -m pip install uv")


def locked_requirements() -> list[str]:
    """The runtime closure as `name==version [; marker]` lines, from uv.lock, without hashes."""
    export = [
        "export",
        "--locked",
        "--no-default-groups",
        "--no-emit-project",
        "--no-hashes",
        "--no-header",
        "--no-annotate",
        "--format",
        "requirements-txt",
    ]
    result = subprocess.run(
        uv_command() + export, cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = [line.strip() for line in result.stdout.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def render(pyproject: dict, requirements: list[str]) -> str:
    direct = direct_dependencies(pyproject)
    first = [r for r in requirements if requirement_name(r) in direct]
    rest = [r for r in requirements if requirement_name(r) not in direct]
    lines = [
        HEADER.rstrip("\n"),
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        f"  - python={python_version(pyproject)}",
        "  - pip",
        "  - pip:",
        "      # direct dependencies (pyproject.toml [project] dependencies)",
        *(f"      - {r}" for r in first),
        "      # their dependencies",
        *(f"      - {r}" for r in rest),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 on a diff")
    args = parser.parse_args()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    text = render(pyproject, locked_requirements())
    current = ENV_FILE.read_text() if ENV_FILE.exists() else ""
    if args.check:
        if current != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    str(ENV_FILE.relative_to(ROOT)),
                    "from uv.lock",
                )
            )
            sys.exit(1)
        return
    ENV_FILE.write_text(text)
    print(f"wrote {ENV_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
