"""The package code a rule declares as input: every module its script imports, transitively."""

from pathlib import Path

from conftest import ROOT
from wwvw.core.code import code_files, imported_modules


def package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_imports_are_followed_through_the_package(tmp_path):
    root = package(
        tmp_path,
        {
            "rule.py": "import os\nfrom wwvw import logs\nfrom wwvw.stage.model import fit\n",
            "wwvw/__init__.py": "",
            "wwvw/logs.py": "import logging\n",
            "wwvw/stage/__init__.py": "from .model import fit\n",
            "wwvw/stage/model.py": (
                "from . import helpers\nfrom ..core import db\n"
                "def fit():\n    from wwvw.lazy import thing  # imported where used\n"
            ),
            "wwvw/stage/helpers.py": "",
            "wwvw/stage/unused.py": "",
            "wwvw/core/__init__.py": "",
            "wwvw/core/db.py": "import duckdb\n",
            "wwvw/lazy.py": "",
            "wwvw/other.py": "",
            "wwvw/stage/templates/page.j2": "{{ x }}",
            "wwvw/unimported/__init__.py": "",
            "wwvw/unimported/templates/other.j2": "",
        },
    )
    files = code_files(root, root / "rule.py")
    names = {Path(f).relative_to(root).as_posix() for f in files}
    assert names == {
        "wwvw/__init__.py",
        "wwvw/logs.py",
        "wwvw/stage/__init__.py",
        "wwvw/stage/model.py",
        "wwvw/stage/helpers.py",
        "wwvw/core/__init__.py",
        "wwvw/core/db.py",
        "wwvw/lazy.py",
        "wwvw/stage/templates/page.j2",  # data beside an imported module
    }
    assert list(files) == sorted(files)


def test_only_the_package_counts(tmp_path):
    root = package(tmp_path, {"wwvw/__init__.py": "", "wwvw/a.py": "import numpy\nimport wwvwx\n"})
    assert imported_modules(root, root / "wwvw" / "a.py") == set()


def test_every_rule_script_declares_existing_code():
    """Each rule script's declared code exists, and the estimation script's includes the UJIVE."""
    scripts = ROOT / "scripts"
    for script in scripts.glob("*.py"):
        for path in code_files(scripts, script):
            assert Path(path).is_file()
    estimate = code_files(scripts, scripts / "estimate.py")
    assert str(scripts / "wwvw" / "estimation" / "jackknife.py") in estimate
    assert not any("/synthetic/" in path for path in estimate)
