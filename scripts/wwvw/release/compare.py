"""Compare two snapshots: what changed in the inputs, the counts of persons and the results."""

import json
from pathlib import Path

import polars as pl


def input_changes(base: dict, other: dict) -> pl.DataFrame:
    """One row per input file in either snapshot: added, removed, changed (hash) or unchanged."""

    def table(doc):
        return pl.DataFrame(doc["inputs"]).select("file", "used_as", "bytes", "sha256")

    joined = table(base).join(table(other), on="file", how="full", suffix="_other", coalesce=True)
    return (
        joined.with_columns(
            pl.when(pl.col("sha256").is_null())
            .then(pl.lit("added"))
            .when(pl.col("sha256_other").is_null())
            .then(pl.lit("removed"))
            .when(pl.col("sha256") != pl.col("sha256_other"))
            .then(pl.lit("changed"))
            .otherwise(pl.lit("unchanged"))
            .alias("status")
        )
        .select("file", "status", "bytes", "bytes_other")
        .sort("file")
    )


def numeric_changes(base: pl.DataFrame, other: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Side by side with the difference, for every numeric column of two tables keyed alike."""
    numeric = [c for c, t in base.schema.items() if t.is_numeric() and c not in keys]
    joined = base.select(*keys, *numeric).join(
        other.select(*keys, *numeric), on=keys, how="full", suffix="_other", coalesce=True
    )
    return joined.with_columns(
        [(pl.col(f"{c}_other") - pl.col(c)).alias(f"{c}_change") for c in numeric]
    )


def markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.rows()
    ]
    return "\n".join([header, rule, *rows])


def compare(base_dir: Path, other_dir: Path, tables: dict[str, list[str]]) -> str:
    """A small Markdown report comparing two results folders."""
    base_doc = json.loads((base_dir / "provenance.json").read_text())
    other_doc = json.loads((other_dir / "provenance.json").read_text())
    parts = [
        f"# Snapshot {base_doc['snapshot']} compared with {other_doc['snapshot']}",
        "",
        "## Input files",
        markdown(input_changes(base_doc, other_doc)),
    ]
    for relative, keys in tables.items():
        a, b = base_dir / relative, other_dir / relative
        if a.exists() and b.exists():
            changes = numeric_changes(pl.read_csv(a), pl.read_csv(b), keys)
            parts += ["", f"## {relative}", markdown(changes)]
    return "\n".join(parts) + "\n"
