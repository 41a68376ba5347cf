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
4. core: the spelling with its decorations taken off, as registrations carry them (a duration
   "2 mnd", "8 weken", a percentage "LKS 50%", a frequency "16 uur p/w", a part in parentheses
   "(buurthuis)", a qualifier after a dash "- voedselbank"; an abbreviation with a dot such as
   "proefpl." or "soc." read as the one keyword word it begins), is a keyword, is within the
   fuzzy score of one, or contains a keyword as whole words ("opleiding heftruck"); of several
   contained keywords the earliest, then the longest, wins. Whole words only: "taalstage" does
   not contain "taal". A spelling that joins two interventions of different categories with "/"
   or "+" ("proefplaatsing/LKS") stays unmapped for the reviewer;
5. otherwise unmapped, category OVERIG (listed in the qc table for the reviewer).
The local code prefix is taken off only where what it would take is not itself a keyword ("LKS 30
%" keeps "lks"; "RE-07 LKS" loses "re 07").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
METHODS = ("exact", "fuzzy", "core", "unmapped")
# decorations of a registration, taken off for its core form (after normalisation)
DURATION = (
    r"\b\d+\s*(?:x|mnd|mnden|maand|maanden|md|wk|wkn|week|weken|dag|dagen|dagdeel|dagdelen|"
    r"uur|u|jr|jaar|bijeenkomst|bijeenkomsten|sessie|sessies|keer)\b"
)
FREQUENCY = r"\b(?:p|per)\s+(?:w|wk|week|mnd|maand|dag)\b"
NUMBER = r"\b\d+\b"
CONJUNCTION = r"\s*[/+]\s*"
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


def keyword_words(keywords: pl.DataFrame) -> dict[str, set[str]]:
    """Every word of the keywords, with the categories of the keywords it occurs in."""
    words: dict[str, set[str]] = {}
    for keyword, category in zip(keywords["keyword"], keywords["category"], strict=True):
        for word in keyword.split():
            words.setdefault(word, set()).add(category)
    return words


def strip_asides(spelling: str) -> str:
    """A raw spelling without its parts in parentheses and its frequencies ('p/w', 'per week'),
    which may hold the '/' that `CONJUNCTION` would otherwise read as joining two interventions."""
    text = re.sub(r"\([^)]*\)?", " ", spelling or "")
    text = re.sub(r"\b[pP]\s*/\s*[a-zA-Z]{1,5}\b", " ", text)
    # '12 uur/week', '3x/wk', 'dagen/maand': a rate, not two interventions
    return re.sub(r"\b\w*\s*/\s*(?:week|wk|w|weken|maand|mnd|dag|jaar|jr)\b", " ", text)


def core_forms(spelling: str, words: Mapping[str, set[str]], code_prefix_pattern: str) -> list[str]:
    """Candidate core forms of a raw spelling, most specific first (see the module docstring)."""
    raw = spelling or ""
    text = raw
    # abbreviations: a word of 3+ letters followed by a dot, read as a keyword word it begins
    # when all such words belong to keywords of one category (the shortest is taken)
    for abbreviation in re.findall(r"(\b[^\W\d_]{3,})\.", raw):
        stem = normalise(pl.Series([abbreviation]), "")[0]
        matches = sorted((w for w in words if w.startswith(stem) and w != stem), key=len)
        if matches and len(set().union(*(words[w] for w in matches))) == 1:
            text = re.sub(rf"\b{re.escape(abbreviation)}\.", matches[0], text)
    no_brackets = strip_asides(text)
    head = re.split(r"\s+[-\u2013\u2014,:]\s+|,\s*", no_brackets)[0]
    candidates = []
    for piece in (no_brackets, head):
        plain = normalise(pl.Series([piece]), "")[0] or ""
        coded = normalise(pl.Series([piece]), code_prefix_pattern)[0] or ""
        for form in (coded, plain):
            form = re.sub(DURATION, " ", form)
            form = re.sub(FREQUENCY, " ", form)
            form = re.sub(NUMBER, " ", form)
            form = " ".join(form.split())
            if form and form not in candidates:
                candidates.append(form)
    return candidates


def _contained(form: str, keywords: Mapping[str, str]) -> tuple[str, str] | None:
    """The keyword contained in `form` as whole words: the earliest, then the longest."""
    padded = f" {form} "
    found = []
    for keyword, category in keywords.items():
        at = padded.find(f" {keyword} ")
        if at >= 0:
            found.append((at, -len(keyword), keyword, category))
    if not found:
        return None
    _, _, keyword, category = min(found)
    return keyword, category


@dataclass(frozen=True)
class KeywordIndex:
    """The keyword table as the core step reads it, built once per harmonisation."""

    frame: pl.DataFrame  # keyword, category (`keyword_table`)
    placeable: dict[str, str]  # keyword -> category, OVERIG left out
    words: dict[str, set[str]]  # `keyword_words`

    @classmethod
    def of(cls, keywords: pl.DataFrame) -> KeywordIndex:
        pairs = zip(keywords["keyword"], keywords["category"], strict=True)
        placeable = {k: c for k, c in pairs if c != OVERIG}
        return cls(keywords, placeable, keyword_words(keywords))


def classify_core(
    spelling: str, index: KeywordIndex, min_score: float, code_prefix_pattern: str
) -> tuple[str, str, float] | None:
    """(keyword, category, score) of a spelling's core form, or None (step 4 of the docstring)."""
    parts = [p for p in re.split(CONJUNCTION, strip_asides(spelling)) if p.strip()]
    if len(parts) > 1:  # two interventions joined: placed only when both are one category
        placed = [classify_core(part, index, min_score, code_prefix_pattern) for part in parts]
        if len({p[1] for p in placed if p is not None}) > 1:  # a part that places nowhere is
            return None  # a qualifier ('+ LinkedIn'); two categories are two interventions
    forms = core_forms(spelling, index.words, code_prefix_pattern)
    for form in forms:
        if form in index.placeable:
            return form, index.placeable[form], 100.0
    keywords = index.frame
    for form in forms:
        best, score, ambiguous = _fuzzy([form], keywords)
        category = keywords["category"][int(best[0])]
        if score[0] >= min_score and not ambiguous[0] and category != OVERIG:
            return keywords["keyword"][int(best[0])], category, float(score[0])
    for form in forms:
        hit = _contained(form, index.placeable)
        if hit is not None:
            return hit[0], hit[1], round(100.0 * len(hit[0]) / len(form), 1)
    return None


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
    table = with_core_matches(table, keywords, min_score, code_prefix_pattern)
    return table.select([pl.col(name).cast(dtype) for name, dtype in TABLE_SCHEMA.items()]).sort(
        "rows", "spelling", descending=[True, False], nulls_last=True
    )


def with_core_matches(
    table: pl.DataFrame, keywords: pl.DataFrame, min_score: float, code_prefix_pattern: str
) -> pl.DataFrame:
    """Step 4 for the spellings still unmapped (and not an empty or OVERIG-exact spelling)."""
    # unmapped, with some text (a code prefix may have taken all of the normalised form: "LKS 30 %")
    open_rows = table.filter(
        (pl.col("method") == "unmapped") & (pl.col("spelling").str.strip_chars() != "")
    )
    if open_rows.height == 0 or keywords.height == 0:
        return table
    found = {}
    index = KeywordIndex.of(keywords)
    for spelling in open_rows["spelling"].to_list():
        hit = classify_core(spelling, index, min_score, code_prefix_pattern)
        if hit is not None:
            found[spelling] = hit
    if not found:
        return table
    core = pl.DataFrame(
        {
            "spelling": list(found),
            "core_keyword": [h[0] for h in found.values()],
            "core_category": [h[1] for h in found.values()],
            "core_score": [h[2] for h in found.values()],
        },
        schema={
            "spelling": pl.String,
            "core_keyword": pl.String,
            "core_category": pl.String,
            "core_score": pl.Float64,
        },
    )
    hit = pl.col("core_category").is_not_null()
    return (
        table.join(core, on="spelling", how="left", nulls_equal=False)
        .with_columns(
            category=pl.when(hit).then(pl.col("core_category")).otherwise(pl.col("category")),
            method=pl.when(hit).then(pl.lit("core")).otherwise(pl.col("method")),
            score=pl.when(hit).then(pl.col("core_score")).otherwise(pl.col("score")),
            keyword=pl.when(hit).then(pl.col("core_keyword")).otherwise(pl.col("keyword")),
            keyword_category=pl.when(hit)
            .then(pl.col("core_category"))
            .otherwise(pl.col("keyword_category")),
        )
        .drop("core_keyword", "core_category", "core_score")
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


def summary_by_category(registrations: pl.DataFrame) -> pl.DataFrame:
    """Per category and method (exact, fuzzy, core, unmapped, and `all`): distinct spellings,
    registrations (`rows`) and distinct persons. What is released of the harmonisation: persons
    are what the disclosure rules count (a category of 12 registrations may be 3 persons); the
    spellings themselves stay inside."""
    person = pl.struct("RINPERSOONS", "RINPERSOON")
    linked = pl.col("RINPERSOONS").is_not_null() & pl.col("RINPERSOON").is_not_null()

    def counts(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        return frame.group_by(keys).agg(
            pl.col("INTERVENTIE").n_unique().cast(pl.Int64).alias("spellings"),
            pl.len().cast(pl.Int64).alias("rows"),
            person.filter(linked).n_unique().cast(pl.Int64).alias("persons"),
        )

    by_method = counts(registrations, ["category", "method"])
    totals = counts(registrations, ["category"]).with_columns(method=pl.lit("all"))
    frame = pl.concat([by_method, totals.select(by_method.columns)])
    order = {m: k for k, m in enumerate((*METHODS, "all"))}
    return frame.sort(
        "category", pl.col("method").replace_strict(order, default=9, return_dtype=pl.Int8)
    )


def read_municipal_csv(path: str | Path) -> pl.DataFrame:
    """The person key and INTERVENTIE of a raw interventies.csv, read as the workflow reads every
    municipal extract (`municipal.read_extract`: encoding, delimiter, header and the identifier
    guard), for running the harmonisation by hand."""
    from wwvw.ingest.municipal import read_extract

    path = Path(path)
    return read_extract(path.read_bytes(), path.name, ["RINPERSOONS", "RINPERSOON", "INTERVENTIE"])[
        0
    ]
