"""Figures (scripts/wwvw/present/figures.py, rule `figure`): drawn from safe tables only, deterministic,
labelled in one language, offline."""

import hashlib
import re
from pathlib import Path

import altair as alt
import polars as pl
import pytest
from wwvw.present import figures
from wwvw.release.outputs import FIGURE_SOURCES, FIGURES

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "figures"


def safe_frames(results: Path) -> dict[str, pl.DataFrame]:
    names = {n for sources in FIGURE_SOURCES.values() for n in sources}
    return {n: pl.read_csv(results / "safe" / n, infer_schema_length=None) for n in sorted(names)}


def svg_text(svg: str) -> str:
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_every_figure_exists_in_three_formats_and_is_offline(results):
    for name in FIGURES:
        for ext in ("png", "svg", "html"):
            path = results / "figures" / f"{name}.{ext}"
            assert path.stat().st_size > 1000, path
        assert (results / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        html = (results / "figures" / f"{name}.html").read_text()
        assert "<script src=" not in html and "cdn.jsdelivr" not in html
        assert "vegaEmbed" in html  # the libraries are inlined


def test_figures_are_deterministic_and_match_the_run(results, tmp_path):
    frames = safe_frames(results)
    for name in ("estimates", "time_to_work"):
        paths = []
        for attempt in ("a", "b"):
            out = tmp_path / attempt
            out.mkdir(exist_ok=True)
            chart = figures.build(name, frames, "en", results.name)
            figures.save(chart, out / f"{name}.png", out / f"{name}.svg", out / f"{name}.html")
            paths.append(out)
        for ext in ("svg", "html"):
            a, b = ((p / f"{name}.{ext}").read_bytes() for p in paths)
            assert a == b, f"{name}.{ext} differs between two runs"
            assert (
                hashlib.sha256(a).digest()
                == hashlib.sha256((results / "figures" / f"{name}.{ext}").read_bytes()).digest()
            ), f"{name}.{ext} differs from the workflow's"


def test_html_with_the_bundle_of_the_vega_rule_is_what_altair_inlines(tmp_path):
    chart = alt.Chart(pl.DataFrame({"month": [1, 2, 3], "share": [0.1, 0.2, 0.3]})).mark_line()
    chart = chart.encode(x="month:Q", y="share:Q")
    chart.save(str(tmp_path / "altair.html"), inline=True, embed_options=figures.EMBED_OPTIONS)
    bundle = figures.javascript_bundle()
    figures.save(chart, tmp_path / "f.png", tmp_path / "f.svg", tmp_path / "f.html", bundle)
    html = (tmp_path / "f.html").read_bytes()
    assert html == (tmp_path / "altair.html").read_bytes()
    assert b"vegaEmbed" in html and b"<script src=" not in html


@pytest.mark.parametrize("language", ["en", "nl"])
def test_figures_are_labelled_in_one_language(results, language):
    frames = safe_frames(results)
    out = ARTIFACTS / language
    out.mkdir(parents=True, exist_ok=True)
    english = ["Months since", "Clients of", "Effect on", "recipients", "Intervention category"]
    dutch = ["Maanden sinds", "Cliënten van", "Effect op", "ontvangers", "Interventiecategorie"]
    texts = []
    for name in FIGURES:
        chart = figures.build(name, frames, language, "synthetic")
        figures.save(chart, out / f"{name}.png", out / f"{name}.svg", out / f"{name}.html")
        texts.append(svg_text((out / f"{name}.svg").read_text()))
    text = " ".join(texts)
    mine, other = (english, dutch) if language == "en" else (dutch, english)
    assert sum(word in text for word in mine) >= 4
    assert not [word for word in other if word in text]


def test_titles_state_the_finding_with_the_numbers_shown(results):
    frames = safe_frames(results)
    prevalence = figures.build("prevalence", frames, "en", "synthetic").to_dict()
    table = frames["tables/chronic_prevalence.csv"]
    three = table.filter(pl.col("condition") == "three_or_more")
    subtitle = " ".join(prevalence["title"]["subtitle"])
    for pct in three["pct"]:
        assert f"{figures.half_up(pct):.0f}%" in subtitle
    estimates = figures.build("estimates", frames, "en", "synthetic").to_dict()
    assert "Matching" in " ".join(estimates["title"]["subtitle"])


def test_figures_show_no_suppressed_cell(results):
    frames = safe_frames(results)
    table = frames["tables/interventions_by_department.csv"]
    hidden = table.filter(pl.col("participants").is_null())
    assert hidden.height > 0  # the synthetic run has small cells: they must not be drawn
    spec = figures.build("interventions", frames, "en", "synthetic").to_dict()
    drawn = spec.get("data", {}).get("values") or [
        row for values in spec.get("datasets", {}).values() for row in values
    ]
    assert drawn and all(row["pct_of_department"] is not None for row in drawn)
    assert len({(r["category"], r["department"]) for r in drawn}) == table.height - hidden.height


def test_leniency_bins_in_the_figure_all_hold_ten_clients(results):
    bins = pl.read_csv(results / "safe" / "tables" / "leniency.csv")
    assert (bins["n"].drop_nulls() >= 10).all()
    assert set(bins["department"]) == {"matching", "prematching", "activering"}


def test_forest_plot_uses_heterogeneity_when_the_validity_stage_exists(results):
    # the figure's sources include the heterogeneity table; without it, the plot degrades
    frames = {n: f for n, f in safe_frames(results).items() if not n.startswith("validity/")}
    rows, by_subgroup = figures.subgroup_rows(frames, "en")
    assert not by_subgroup and rows.height > 0  # without validity: per specification
    frames["validity/heterogeneity.csv"] = pl.DataFrame(
        {
            "characteristic": ["sex", "sex", "sex", "sex"],
            "level": ["man", "woman", "man", "woman"],
            "treatment": ["matching", "matching", "activering", "activering"],
            "estimator": ["ujive"] * 4,
            "coef": [0.1, 0.12, 0.0, -0.01],
            "se": [0.03] * 4,
            "ci_low": [0.04, 0.06, -0.06, -0.07],
            "ci_high": [0.16, 0.18, 0.06, 0.05],
            "pvalue": [0.01, 0.01, 0.9, 0.8],
            "pvalue_romano_wolf": [0.02, 0.02, 0.9, 0.9],
            "n": [3000, 2988, 3000, 2988],
            "n_clusters": [60] * 4,
        }
    )
    rows, by_subgroup = figures.subgroup_rows(frames, "nl")
    assert by_subgroup and set(rows["label"]) == {"Geslacht: man", "Geslacht: vrouw"}
    spec = figures.build("subgroups", frames, "en", "synthetic").to_dict()
    assert spec["title"]["text"] == figures.LABELS["en"]["subgroups_title"]
