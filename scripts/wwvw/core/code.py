"""The package code a rule script runs: its `wwvw` imports, followed through the package.

Snakemake reruns a `script:` rule when the script file changes, not when a module it imports
does. Each rule therefore declares as input the package files its script imports, directly or
through other modules (`workflow/rules/common.smk`, `code()`): an edit reruns exactly the rules
whose scripts import the edited module, and what follows them.

Imports are read from the source (ast), including those inside functions, so a lazily imported
module counts too. Importing `wwvw.a.b` runs `wwvw/__init__.py` and `wwvw/a/__init__.py` as
well: they are part of the code. So are the data files a module reads beside it (a template):
every file in a folder of the imported module's package that is not itself a package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "wwvw"


def module_file(root: Path, module: str) -> Path | None:
    """The file of a dotted module name below `root` (a module file or a package's __init__)."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(root: Path, path: Path) -> str:
    """Dotted package that holds a module file (the module itself for an __init__)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1])


@cache
def imported_modules(root: Path, path: Path) -> frozenset[str]:
    """Dotted names of the package modules one file imports (absolute and relative imports);
    each file is parsed once per process (every rule's closure shares the modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(root, path).split(".")
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(filter(None, [*package, node.module or ""]))
            else:
                base = node.module or ""
            found.add(base)
            # `from pkg import name`: name may be a submodule
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(n for n in found if n == PACKAGE or n.startswith(PACKAGE + "."))


def _with_parents(module: str) -> Iterable[str]:
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


@cache
def code_files(root: Path, *scripts: Path) -> tuple[str, ...]:
    """Every package file that the scripts import, transitively, as sorted POSIX paths relative
    to the working directory's view of `root` (as given)."""
    seen: set[Path] = set()
    pending = [Path(script) for script in scripts]
    while pending:
        path = pending.pop()
        for module in imported_modules(root, path):
            for name in _with_parents(module):
                target = module_file(root, name)
                if target is not None and target not in seen:
                    seen.add(target)
                    pending.append(target)
    data = {
        path
        for module in seen
        for folder in module.parent.iterdir()
        if folder.is_dir()
        and not (folder / "__init__.py").exists()
        and folder.name != "__pycache__"
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return tuple(sorted(p.as_posix() for p in seen | data))
