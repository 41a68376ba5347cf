"""The rules' environments agree with uv.lock: the conda environment in envs/ (--sdm conda), the
container image definitions (--sdm apptainer), and the dry runs with those flags.

What runs here and what does not: no conda, container engine or Apptainer is on these machines.
The pins, the definitions and an install replay of the image's `uv sync` are checked for real;
the dry runs use the real conda and apptainer where they are on PATH, else stand-ins that answer
only the version and platform queries Snakemake makes before it would create an environment or
pull an image (and fail on anything else, so no job could run through them).
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENVS = ROOT / "envs"
ENV_FILES = sorted(ENVS.glob("*.yaml"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
CONTAINERFILE = (ENVS / "Containerfile").read_text()
APPTAINER_DEF = (ENVS / "apptainer.def").read_text()


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions() -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for package in LOCK["package"]:
        if "version" in package and package["source"].get("virtual") != ".":
            versions.setdefault(normalise(package["name"]), set()).add(package["version"])
    return versions


def runtime_closure() -> set[str]:
    """Every package the project's own dependencies pull in (with extras), per uv.lock."""
    packages: dict[str, list[dict]] = {}
    for package in LOCK["package"]:
        packages.setdefault(normalise(package["name"]), []).append(package)
    (project,) = (p for p in LOCK["package"] if p["source"].get("virtual") == ".")
    todo = list(project.get("dependencies", []))
    seen: set[str] = set()
    while todo:
        dependency = todo.pop()
        name = normalise(dependency["name"])
        extras = dependency.get("extra", [])
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for package in packages[name]:
            todo += package.get("dependencies", [])
            for extra in extras:
                todo += package.get("optional-dependencies", {}).get(normalise(extra), [])
    return {key.split("[")[0] for key in seen}


def direct_dependencies() -> set[str]:
    return {normalise(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}


def conda_env(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def pip_requirements(path: Path) -> list[Requirement]:
    (pip,) = (d["pip"] for d in conda_env(path)["dependencies"] if isinstance(d, dict))
    return [Requirement(line) for line in pip]


def run(*args, env=None, cwd=ROOT):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)


def rule_environments() -> dict[str, Path]:
    """`<file>.smk: conda: <path>` of every rule -> the file that path resolves to."""
    named = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for relative in re.findall(r'^\s+conda:\s*\n\s+"([^"]+)"', smk.read_text(), flags=re.M):
            named[f"{smk.name}: conda: {relative}"] = (smk.parent / relative).resolve()
    return named


def test_there_is_an_environment_and_every_rule_names_one_that_exists():
    assert ENV_FILES, "no conda environment in envs/"
    named = rule_environments()
    assert named, "no rule has a conda: directive"
    envs = [p.resolve() for p in ENV_FILES]
    assert not [where for where, env in named.items() if env not in envs]


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_environment_is_conda_forge_python_of_the_project(env_file):
    env = conda_env(env_file)
    assert env["channels"][0] == "conda-forge"
    conda_packages = [d for d in env["dependencies"] if isinstance(d, str)]
    (python,) = (d for d in conda_packages if d.startswith("python"))
    version = python.removeprefix("python=")
    assert re.fullmatch(r"\d+\.\d+", version), python
    assert f"{version}.0" in SpecifierSet(PYPROJECT["project"]["requires-python"])
    assert "pip" in conda_packages


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_every_pin_is_exact_and_the_version_in_uv_lock(env_file):
    locked = locked_versions()
    wrong = {}
    for requirement in pip_requirements(env_file):
        name = normalise(requirement.name)
        (spec,) = requirement.specifier
        if spec.operator != "==" or spec.version not in locked.get(name, set()):
            wrong[name] = (str(requirement.specifier), sorted(locked.get(name, [])))
    assert not wrong, f"{env_file.name} disagrees with uv.lock (pin, locked): {wrong}"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_every_direct_dependency_is_in_the_environment(env_file):
    pinned = {normalise(r.name) for r in pip_requirements(env_file)}
    missing = direct_dependencies() - pinned
    assert not missing, f"{env_file.name} lacks direct dependencies of pyproject.toml: {missing}"


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_environment_is_the_locked_runtime_closure_and_nothing_else(env_file):
    pinned = {normalise(r.name) for r in pip_requirements(env_file)}
    closure = runtime_closure()
    assert pinned == closure, (
        f"missing: {sorted(closure - pinned)}; not a runtime package: {sorted(pinned - closure)}"
    )


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_environment_is_what_sync_envs_writes():
    result = run(sys.executable, "scripts/dev/sync_envs.py", "--check")
    assert result.returncode == 0, "run python scripts/dev/sync_envs.py:\n" + result.stdout


# --- the container image -----------------------------------------------------------------------


def base_image(text: str, keyword: str) -> str:
    (image,) = re.findall(rf"^{keyword}\s+(\S+)", text, flags=re.M)
    return image


def install_command(text: str) -> str:
    (command,) = re.findall(r"^(?:RUN\s+|\s+)(python -m pip install .*uv sync .*)$", text, re.M)
    return command.strip()


def uv_settings(text: str) -> dict[str, str]:
    return dict(re.findall(r"(UV_[A-Z_]+)=(\S+?)\s*(?:\\|$)", text, flags=re.M))


def test_containerfile_installs_exactly_uv_lock_on_the_projects_python():
    image = base_image(CONTAINERFILE, "FROM")
    python = re.search(r"python:(\d+\.\d+)-slim", image)
    assert python and f"{python.group(1)}.0" in SpecifierSet(
        PYPROJECT["project"]["requires-python"]
    )
    copies = re.findall(r"^COPY\s+(.+)$", CONTAINERFILE, flags=re.M)
    assert copies == ["pyproject.toml uv.lock ./"], "the image is built from the lock alone"
    command = install_command(CONTAINERFILE)
    assert re.search(r"pip install --no-cache-dir uv==[\d.]+ ", command), "uv pinned"
    assert "uv sync --locked" in command and "--no-default-groups" in command
    venv = uv_settings(CONTAINERFILE)["UV_PROJECT_ENVIRONMENT"]
    assert re.search(rf"^ENV PATH={re.escape(venv)}/bin:\$PATH$", CONTAINERFILE, flags=re.M)
    assert uv_settings(CONTAINERFILE)["UV_PYTHON_DOWNLOADS"] == "never"


def test_apptainer_definition_is_the_same_image():
    assert base_image(APPTAINER_DEF, "From:") == base_image(CONTAINERFILE, "FROM")
    assert re.search(r"^Bootstrap:\s+docker$", APPTAINER_DEF, flags=re.M)
    files = re.search(r"%files\n((?:[ \t]+.+\n)+)", APPTAINER_DEF).group(1).split()
    workdir = re.search(r"^WORKDIR\s+(\S+)", CONTAINERFILE, flags=re.M).group(1)
    assert files == ["pyproject.toml", f"{workdir}/pyproject.toml", "uv.lock", f"{workdir}/uv.lock"]
    assert install_command(APPTAINER_DEF) == install_command(CONTAINERFILE)
    assert uv_settings(APPTAINER_DEF) == uv_settings(CONTAINERFILE)
    venv = uv_settings(CONTAINERFILE)["UV_PROJECT_ENVIRONMENT"]
    assert f"export PATH={venv}/bin:$PATH" in APPTAINER_DEF


def test_snakefile_names_the_image_of_this_version():
    snakefile = (ROOT / "Snakefile").read_text()
    (url,) = re.findall(r'^container:\s*"([^"]+)"', snakefile, flags=re.M)
    assert url.startswith("docker://") and url.endswith(f":{PYPROJECT['project']['version']}")
    assert "envs/Containerfile" in snakefile


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_image_install_step_replays_from_the_lock_alone(tmp_path):
    """The Containerfile's `uv sync`, run outside a container on a copy of pyproject.toml and
    uv.lock only: it installs exactly the locked runtime closure (no dev or cluster tools)."""
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    sync = install_command(CONTAINERFILE).split("&&", 1)[1].split()
    assert sync[:2] == ["uv", "sync"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))}
    env |= uv_settings(CONTAINERFILE)
    # only the location and two speed settings differ from the image
    env |= {
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv"),
        "UV_COMPILE_BYTECODE": "0",
        "UV_LINK_MODE": "hardlink",
    }
    result = run(shutil.which("uv"), *sync[1:], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    python = tmp_path / "venv" / "bin" / "python"
    listing = run(
        str(python),
        "-c",
        "import importlib.metadata as m; print('\\n'.join(f\"{d.metadata['Name']}=={d.version}\""
        " for d in m.distributions()))",
    )
    installed = {
        normalise(line.split("==")[0]): line.split("==")[1] for line in listing.stdout.split()
    }
    installed.pop("pip", None)
    locked = locked_versions()
    linux_closure = {
        normalise(r.name)
        for r in pip_requirements(ENVS / "pipeline.yaml")
        if r.marker is None or r.marker.evaluate()
    }
    assert set(installed) == linux_closure
    assert all(version in locked[name] for name, version in installed.items())
    assert run(str(python), "-m", "snakemake", "--version").stdout.strip() == installed["snakemake"]


# --- dry runs with --sdm conda and --sdm apptainer ----------------------------------------------

STAND_INS = {
    "conda": {
        "info --json": '{"platform": "linux-64", "conda_prefix": "/nonexistent/conda"}',
        "--version": "conda 24.11.3",
        "config --get channel_priority --json": '{"get": {"channel_priority": "strict"}}',
    },
    "apptainer": {"--version": "apptainer version 1.3.6"},
}


def stand_in(folder: Path, tool: str) -> None:
    cases = "\n".join(f"  '{args}') echo '{out}' ;;" for args, out in STAND_INS[tool].items())
    script = folder / tool
    script.write_text(
        f'#!/bin/sh\ncase "$*" in\n{cases}\n'
        f'  *) echo "stand-in {tool} refuses: $*" >&2; exit 97 ;;\nesac\n'
    )
    script.chmod(0o755)


@pytest.mark.parametrize("sdm", ["conda", "apptainer"])
def test_dry_run_with_software_deployment_resolves(sdm, tmp_path):
    env = dict(os.environ)
    if shutil.which(sdm) is None:
        stand_in(tmp_path, sdm)
        env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    result = run(
        str(BIN / "snakemake"),
        "-n",
        "--forceall",
        "--sdm",
        sdm,
        "--config",
        "snapshot=sdm-dry-run",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    if sdm == "conda":
        used = {env.relative_to(ROOT) for env in rule_environments().values()}
        expected = [f"Conda environment {env} will be created." for env in sorted(used)]
    else:
        url = re.search(r'^container:\s*"([^"]+)"', (ROOT / "Snakefile").read_text(), re.M)[1]
        expected = [f"Singularity image {url} will be pulled."]
    for line in expected:
        assert line in result.stdout, result.stdout[-3000:]
