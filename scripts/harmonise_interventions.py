"""Rule `harmonise_interventions`: place every free-text INTERVENTIE on the reference classification.

Writes the registrations with category, method and score, and the qc table of distinct spellings
(spelling, category, method, score, rows, normalised, keyword, keyword_category) for the reviewer
who maintains config/interventions.yaml.

Run by Snakemake, or by hand on a raw municipal extract for debugging:
    python scripts/harmonise_interventions.py interventies.csv OUT_DIR [--mapping FILE]
        [--min-score 88] [--code-prefix-pattern REGEX]
which writes OUT_DIR/interventions.parquet and OUT_DIR/interventions.csv (the qc table).
"""

import argparse
import logging
import time
from pathlib import Path

import polars as pl
from wwvw.core import logs
from wwvw.ingest.interventions import (
    DEFAULT_CODE_PREFIX_PATTERN,
    DEFAULT_MIN_SCORE,
    apply_mapping,
    count_spellings,
    harmonise,
    load_mapping,
    read_municipal_csv,
    summary_by_category,
    summary_by_method,
)

QC_COLUMNS = [
    "spelling",
    "category",
    "method",
    "score",
    "rows",
    "normalised",
    "keyword",
    "keyword_category",
]


def run(
    interventions: pl.DataFrame,
    mapping_path: str | Path,
    min_score: float,
    code_prefix_pattern: str,
    log: logging.Logger,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The registrations with category, method and score, and the qc table of spellings."""
    started = time.perf_counter()
    categories, mapping = load_mapping(mapping_path)
    table = harmonise(count_spellings(interventions), mapping, min_score, code_prefix_pattern)
    result = apply_mapping(interventions, table)
    log.info(
        "%d registrations, %d distinct spellings, %d keywords in %d categories, min_score %s",
        result.height,
        table.height,
        sum(len(words) for words in mapping.values()),
        len(categories),
        min_score,
    )
    for row in summary_by_method(table).iter_rows(named=True):
        log.info("method %-8s %4d spellings %8d rows", row["method"], row["spellings"], row["rows"])
    by_category = (
        result.group_by("category").agg(pl.len().alias("rows")).sort("category")
    ).iter_rows()
    log.info("rows by category: %s", ", ".join(f"{c} {n}" for c, n in by_category))
    log.info("done in %.2f s", time.perf_counter() - started)
    return result, table.select(QC_COLUMNS)


def write(result: pl.DataFrame, qc: pl.DataFrame, interventions_path, qc_path) -> None:
    for path in (interventions_path, qc_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    result.write_parquet(interventions_path)
    qc.write_csv(qc_path)


def main_snakemake(snakemake) -> None:
    log = logs.setup(snakemake.log[0])
    result, qc = run(
        pl.read_parquet(snakemake.input.interventions),
        snakemake.input.mapping,
        snakemake.params.min_score,
        snakemake.params.code_prefix_pattern,
        log,
    )
    write(result, qc, snakemake.output.interventions, snakemake.output.qc)
    summary_by_category(result).write_csv(snakemake.output.summary)


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "interventies_csv", help="raw municipal interventies.csv (';', cp1252/utf-8)"
    )
    parser.add_argument("out_dir")
    parser.add_argument("--mapping", default="config/interventions.yaml")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--code-prefix-pattern", default=DEFAULT_CODE_PREFIX_PATTERN)
    args = parser.parse_args()
    out = Path(args.out_dir)
    result, qc = run(
        read_municipal_csv(args.interventies_csv),
        args.mapping,
        args.min_score,
        args.code_prefix_pattern,
        logs.setup(),
    )
    write(result, qc, out / "interventions.parquet", out / "interventions.csv")


if __name__ == "__main__":
    if "snakemake" in globals():
        main_snakemake(snakemake)  # noqa: F821
    else:
        main_cli()
