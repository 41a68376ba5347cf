"""Harmonise free-text intervention registrations (INTERVENTIE) to the reference classification.

Work is done once per distinct raw spelling (a few hundred), never per registration row:
`count_spellings` collapses the rows, `harmonise` classifies the spellings, `apply_mapping` joins
the result back onto every row.

Classification of one spelling, in order:
1. `normalise` it (accents, case, local code prefix, punctuation, spaces);
2. exact: the normalised spelling is a keyword of the mapping (score 100);
3. fuzzy: the best keyword scores at least `min_score`, where a keyword's score is the larger of
   `fuzz.ratio` (the Indel similarity of the whole strings: a typo or two in a long word keeps it
   above 88, a different short word such as "lks"/"lkd" falls far below) and
   `fuzz.token_sort_ratio` (the same after sorting the words, so that multi-word entries match
   in any word order: "werk beschut" = "beschut werk"). Scorers that give 100 whenever one string
   is contained in the other (`partial_ratio`, `token_set_ratio`, `WRatio`) are deliberately not
   used: a short keyword such as "taal" or "zorg" would then capture every spelling containing it
   ("taalstage", "mantelzorg") and hide from the reviewer the very cases that need a decision.
   When the best score is shared by keywords of two different categories the spelling is
   ambiguous and stays unmapped; a spelling close to (but not equal to) an OVERIG keyword is
   unmapped too, so that OVERIG is only ever exact (reviewed) or unmapped (to review);
4. otherwise unmapped, category OVERIG (listed in the qc table for the reviewer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from rapidfuzz import fuzz, process

OVERIG = "OVERIG"
DEFAULT_MIN_SCORE = 88.0
# Applied after accents are stripped and the text is lower-cased. A local code is 1-3 letters and
# a number that is either joined by a hyphen ("re-07", "p-14") or has at least two digits ("r03",
# "re07"), optionally a sub-number ("re-07.2"), then a separator: a hyphen, colon, dot, slash or
# closing parenthesis, or at least one space. One-digit codes without a hyphen ("nt2 ", "b1 ") are
# left alone because they are vocabulary (language course, language level), not local codes.
DEFAULT_CODE_PREFIX_PATTERN = (
    r"^[a-z]{1,3}\s?(?:-\s?\d{1,3}|\d{2,3})(?:[-./]\d{1,3})?(?:\s*[-:./)]\s*|\s+)"
)
METHODS = ("exact", "fuzzy", "unmapped")
TABLE_SCHEMA = {
    "spelling": pl.String,
    "normalised": pl.String,
    "category": pl.String,
    "method": pl.String,
    "score": pl.Float64,
    "rows": pl.Int64,
    "keyword": pl.String,
    "keyword_category": pl.String,
}


def normalise_expr(
    expr: pl.Expr, code_prefix_pattern: str = DEFAULT_CODE_PREFIX_PATTERN
) -> pl.Expr:
    """The normalised form of a string expression (see `normalise`)."""
    text = (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.strip_chars()
    )
    if code_prefix_pattern:
        text = text.str.replace(code_prefix_pattern, "")
    return (
        text.str.replace_all(r"['’‘`´]", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def normalise(
    series: pl.Series, code_prefix_pattern: str = DEFAULT_CODE_PREFIX_PATTERN
) -> pl.Series:
    """Unicode NFKD without accents, lower case, local code prefix removed, every run of characters
    that are neither letters nor digits (parentheses, dots, hyphens, slashes, spaces) replaced by
    one space, stripped. Apostrophes are dropped without a space. Null stays null."""
    return (
        pl.DataFrame({"s": series.cast(pl.String)})
        .select(normalise_expr(pl.col("s"), code_prefix_pattern))
        .to_series()
        .rename(series.name)
    )


def load_mapping(path: str | Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The `categories` (code -> description) and `mapping` (code -> keywords) of the YAML file,
    checked: every mapped category is a declared one, OVERIG is declared."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    categories = {str(k): str(v) for k, v in document["categories"].items()}
    mapping = {str(k): [str(w) for w in (v or [])] for k, v in document["mapping"].items()}
    unknown = sorted(set(mapping) - set(categories))
    if unknown:
        raise ValueError(f"{path}: mapping uses undeclared categories {unknown}")
    if OVERIG not in categories:
        raise ValueError(f"{path}: category {OVERIG} must be declared")
    return categories, mapping


def keyword_table(
    mapping: Mapping[str, Sequence[str]],
    code_prefix_pattern: str = DEFAULT_CODE_PREFIX_PATTERN,
) -> pl.DataFrame:
    """One row per distinct normalised keyword: keyword, category. Keywords are normalised like the
    spellings. A keyword listed under two categories is an error (the mapping would be ambiguous)."""
    pairs = pl.DataFrame(
        {
            "keyword": [str(w) for words in mapping.values() for w in words],
            "category": [str(c) for c, words in mapping.items() for _ in words],
        },
        schema={"keyword": pl.String, "category": pl.String},
    )
    table = (
        pairs.with_columns(normalise_expr(pl.col("keyword"), code_prefix_pattern))
        .filter(pl.col("keyword").str.len_chars() > 0)
        .unique()
        .sort("keyword", "category")
    )
    clashes = table.filter(pl.col("keyword").is_duplicated())
    if clashes.height:
        listed = "; ".join(
            f"{r['keyword']!r} in {r['category']}"
            for r in clashes.group_by("keyword")
            .agg(pl.col("category").sort().str.join(", "))
            .sort("keyword")
            .iter_rows(named=True)
        )
        raise ValueError(f"keywords listed under more than one category: {listed}")
    return table


def count_spellings(interventions: pl.DataFrame, column: str = "INTERVENTIE") -> pl.DataFrame:
    """Distinct raw spellings of `column` with their number of rows."""
    return (
        interventions.group_by(pl.col(column).alias("spelling"))
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort("rows", "spelling", descending=[True, False], nulls_last=True)
    )


def _fuzzy(queries: list[str], keywords: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each query: index of its best keyword, that score, and whether the best score is shared
    by keywords of another category (ambiguous)."""
    choices = keywords["keyword"].to_list()
    scores = np.maximum(
        process.cdist(queries, choices, scorer=fuzz.ratio, dtype=np.float64, workers=1),
        process.cdist(queries, choices, scorer=fuzz.token_sort_ratio, dtype=np.float64, workers=1),
    )
    scores = np.round(scores, 1)
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(len(queries)), best]
    categories = keywords["category"].to_numpy()
    at_best = scores == best_score[:, None]
    other_category = categories[None, :] != categories[best][:, None]
    ambiguous = (at_best & other_category).any(axis=1)
    return best, best_score, ambiguous


def harmonise(
    spellings_with_counts: pl.DataFrame,
    mapping: Mapping[str, Sequence[str]],
    min_score: float = DEFAULT_MIN_SCORE,
    code_prefix_pattern: str = DEFAULT_CODE_PREFIX_PATTERN,
) -> pl.DataFrame:
    """Classify distinct spellings.

    `spellings_with_counts` has columns spelling (raw text) and rows (its number of registrations).
    Returns one row per spelling: spelling, normalised, category, method (exact, fuzzy, unmapped),
    score (100 for exact; the best keyword's score for fuzzy and unmapped; 0 for an empty
    spelling), rows, keyword and keyword_category (the matched or, when unmapped, the nearest
    keyword). Sorted by rows descending, then spelling.
    """
    keywords = keyword_table(mapping, code_prefix_pattern)
    spellings = (
        spellings_with_counts.select(
            pl.col("spelling").cast(pl.String), pl.col("rows").cast(pl.Int64)
        )
        .group_by("spelling")
        .agg(pl.col("rows").sum())
        .with_columns(normalise_expr(pl.col("spelling"), code_prefix_pattern).alias("normalised"))
    )

    distinct = spellings.select(pl.col("normalised").fill_null("")).unique().sort("normalised")
    exact = distinct.join(
        keywords.rename({"keyword": "normalised", "category": "keyword_category"}),
        on="normalised",
        how="inner",
    ).with_columns(
        pl.col("normalised").alias("keyword"),
        pl.col("keyword_category").alias("category"),
        pl.lit("exact").alias("method"),
        pl.lit(100.0).alias("score"),
    )
    rest = distinct.join(exact, on="normalised", how="anti")
    queries = rest.filter(pl.col("normalised") != "")["normalised"].to_list()
    if queries and keywords.height:
        best, best_score, ambiguous = _fuzzy(queries, keywords)
        best_category = keywords["category"].to_numpy()[best]
        accepted = (best_score >= min_score) & ~ambiguous & (best_category != OVERIG)
        fuzzy = pl.DataFrame(
            {
                "normalised": queries,
                "keyword": keywords["keyword"].gather(best).to_list(),
                "keyword_category": keywords["category"].gather(best).to_list(),
                "method": np.where(accepted, "fuzzy", "unmapped").tolist(),
                "score": best_score,
            },
            schema_overrides={"score": pl.Float64},
        ).with_columns(
            pl.when(pl.col("method") == "fuzzy")
            .then(pl.col("keyword_category"))
            .otherwise(pl.lit(OVERIG))
            .alias("category")
        )
    else:
        fuzzy = None
    empty = rest.filter(pl.col("normalised") == "").with_columns(
        pl.lit(None, pl.String).alias("keyword"),
        pl.lit(None, pl.String).alias("keyword_category"),
        pl.lit(OVERIG).alias("category"),
        pl.lit("unmapped").alias("method"),
        pl.lit(0.0).alias("score"),
    )
    columns = ["normalised", "category", "method", "score", "keyword", "keyword_category"]
    classified = pl.concat(
        [f.select(columns) for f in (exact, fuzzy, empty) if f is not None], how="vertical_relaxed"
    )
    table = spellings.with_columns(pl.col("normalised").fill_null("")).join(
        classified, on="normalised", how="left", validate="m:1"
    )
    return table.select([pl.col(name).cast(dtype) for name, dtype in TABLE_SCHEMA.items()]).sort(
        "rows", "spelling", descending=[True, False], nulls_last=True
    )


def apply_mapping(
    interventions: pl.DataFrame, table: pl.DataFrame, column: str = "INTERVENTIE"
) -> pl.DataFrame:
    """Every row of `interventions` with the category, method and score of its raw spelling."""
    result = interventions.join(
        table.select("spelling", "category", "method", "score"),
        left_on=column,
        right_on="spelling",
        how="left",
        validate="m:1",
        nulls_equal=True,
        maintain_order="left",
    )
    missing = result.filter(pl.col("category").is_null()).height
    if result.height != interventions.height or missing:
        raise ValueError(f"{missing} rows have a spelling that is not in the harmonisation table")
    return result


def summary_by_method(table: pl.DataFrame) -> pl.DataFrame:
    """Spellings and rows per method, in the order exact, fuzzy, unmapped (aggregates only)."""
    order = pl.DataFrame({"method": list(METHODS)})
    counts = table.group_by("method").agg(
        pl.len().cast(pl.Int64).alias("spellings"), pl.col("rows").sum().alias("rows")
    )
    return order.join(counts, on="method", how="left").fill_null(0)


def read_municipal_csv(path: str | Path) -> pl.DataFrame:
    """The person key and INTERVENTIE of a raw interventies.csv, read as the workflow reads every
    municipal extract (`municipal.read_extract`: encoding, delimiter, header and the identifier
    guard), for running the harmonisation by hand."""
    from wwvw.ingest.municipal import read_extract

    path = Path(path)
    return read_extract(path.read_bytes(), path.name, ["RINPERSOONS", "RINPERSOON", "INTERVENTIE"])[
        0
    ]
