"""Provenance of a run: inputs (names, versions, sizes, hashes), resolved config, package versions
from uv.lock, code version, and per-rule runtimes from Snakemake's benchmark files.

Cheap to import (polars and the ingest module are imported where used): the rule files read the
locked package versions through it when Snakemake parses the workflow."""

import hashlib
import subprocess
import tomllib
from pathlib import Path

HASH_CHUNK = 1 << 22


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(data_dir: Path, chosen: dict[str, str]) -> list[dict]:
    """Every file of the snapshot's cbs/ and municipal/ folders, whether and for what it was used.

    A file is named only when its name follows the input contract (a CBS stem of the contract in
    CBS's naming, or one of the three municipal extracts): any other file is identified by its
    folder, kind (extension) and hash, since a name chosen by hand may name a person."""
    from wwvw.ingest.cbs import parse_cbs_name
    from wwvw.ingest.tables import CONTRACT_STEMS, MUNICIPAL_EXTRACTS

    used = {name: key for key, name in chosen.items()}
    rows = []
    for path in sorted([*(data_dir / "cbs").glob("*"), *(data_dir / "municipal").glob("*")]):
        if not path.is_file():
            continue
        folder = path.parent.name
        parsed = parse_cbs_name(path.name) if folder == "cbs" else None
        if parsed is not None and parsed.stem not in CONTRACT_STEMS:
            parsed = None
        named = parsed is not None or (folder == "municipal" and path.name in MUNICIPAL_EXTRACTS)
        digest = sha256(path)
        kind = path.suffix.lower().lstrip(".")[:8] or "no-extension"
        shown = path.name if named else f"other {kind} file {digest[:12]}"
        rows.append(
            {
                "file": f"{folder}/{shown}",
                "stem": parsed.stem if parsed else None,
                "year": parsed.year if parsed else None,
                "version": parsed.version if parsed else None,
                "provisional": parsed.provisional if parsed else None,
                "used_as": used.get(
                    path.name, "municipal extract" if folder == "municipal" and named else None
                ),
                "bytes": path.stat().st_size,
                "sha256": digest,
            }
        )
    return rows


def locked_versions(lock_path: Path) -> dict[str, str]:
    lock = tomllib.loads(lock_path.read_text())
    return {p["name"]: p.get("version", "") for p in lock.get("package", []) if "version" in p}


def code_version(root: Path) -> dict[str, str]:
    """The git commit (and whether the work tree differs from it), when git is available."""

    def git(*args):
        run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return run.stdout.strip() if run.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no")) if commit else None
    return {"commit": commit or "unknown", "modified_since_commit": dirty}


def rule_runtimes(benchmarks: list[str]) -> list[dict]:
    """Wall time (s) and peak memory (MiB) of each job from its benchmark file."""
    import polars as pl

    rows = []
    for path in sorted(benchmarks):
        frame = pl.read_csv(path, separator="\t")
        rows.append(
            {
                "job": Path(path).stem,
                "seconds": round(float(frame["s"][-1]), 2),
                "max_rss_mib": round(float(frame["max_rss"][-1]), 1)
                if frame["max_rss"].dtype.is_numeric()
                else None,
            }
        )
    return rows
