"""The report (scripts/wwvw/present/report.py, rule `report_html`): one self-contained file that renders
every chart offline in headless Chromium, in English or Dutch, from safe tables only."""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import polars as pl
import pytest
from wwvw.present import figures
from wwvw.present import report as rp
from wwvw.release.bundle import read_checks
from wwvw.release.disclosure import Thresholds
from wwvw.release.outputs import FIGURE_SOURCES, FIGURES

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # no network: every connection goes to a closed local port, every name fails to resolve
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, *OFFLINE, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            text=True,
            timeout=180,
        )


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def report_inputs(results: Path) -> dict:
    safe = results / "safe"
    tables = {
        str(p.relative_to(safe)): pl.read_csv(p, infer_schema_length=None)
        for p in sorted(safe.rglob("*.csv"))
        if p.parent.name != "checks"
    }
    checks = pl.concat([read_checks(p) for p in sorted((safe / "checks").glob("*.csv"))])
    svgs = {name: (results / "figures" / f"{name}.svg").read_text() for name in FIGURES}
    provenance = json.loads((results / "provenance.json").read_text())
    return {"tables": tables, "checks": checks, "figures": svgs, "provenance": provenance}


def test_report_is_one_self_contained_file(results):
    html = (results / "report.html").read_text()
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r"https?://", html), "the report refers to an external address"
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html), "only in-page links"
    assert rp.scan_report(html) == []
    assert html.count("<figure") == len(FIGURES)
    for heading in ("In short", "How the effect was estimated", "Table 1", "Table 2", "Provenance"):
        assert heading in html
    provenance = json.loads((results / "provenance.json").read_text())
    for item in provenance["inputs"][:3]:
        assert item["file"] in html
        assert rp.grouped_hash(item["sha256"]) in html
    assert provenance["packages"]["snakemake"] in html


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it: .ci/run)")
def test_report_renders_every_chart_offline_in_headless_chromium(results):
    url = (results / "report.html").resolve().as_uri()
    dom = chromium(url, "--dump-dom", "--virtual-time-budget=5000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_messages(dom.stderr) == []
    rendered = re.findall(
        r'<svg[^>]*data-figure="fig-([a-z_]+)"[^>]*>(.*?)</svg>', dom.stdout, re.S
    )
    assert sorted(name for name, _ in rendered) == sorted(FIGURES)
    for name, body in rendered:
        assert body.count("<text") > 5 and ("<path" in body or "<rect" in body), name
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    png = chromium(url, f"--screenshot={shot}", "--window-size=1280,11000")
    assert png.returncode == 0, png.stderr[-2000:]
    assert console_messages(png.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 100_000


def test_report_in_dutch(results, tmp_path):
    inputs = report_inputs(results)
    names = {n for sources in FIGURE_SOURCES.values() for n in sources}
    frames = {n: inputs["tables"][n] for n in names}
    for name in FIGURES:  # the figures in Dutch too, as the workflow draws them with nl
        chart = figures.build(name, frames, "nl", "synthetic")
        chart.save(str(tmp_path / f"{name}.svg"))
        inputs["figures"][name] = (tmp_path / f"{name}.svg").read_text()
    html = rp.build_report(**inputs, language="nl", snapshot="synthetic", thresholds=Thresholds())
    assert '<html lang="nl">' in html
    for heading in ("In het kort", "Hoe het effect is geschat", "Tabel 1", "Herkomst"):
        assert heading in html
    for english in ("In short", "How the effect", "Provenance", "Started work", "Clients of"):
        assert english not in html
    assert "32.450" in html or "procentpunt" in html
    assert rp.scan_report(html) == []
    path = tmp_path / "report_nl.html"
    path.write_text(html)
    if CHROMIUM:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "report_nl.png"
        chromium(path.as_uri(), f"--screenshot={shot}", "--window-size=1280,11000")
        assert shot.exists()


def test_report_shows_suppressed_cells_as_a_dot_and_explains_them(results):
    inputs = report_inputs(results)
    html = rp.build_report(**inputs, language="en", snapshot="synthetic", thresholds=Thresholds())
    assert rp.SUPPRESSED in html  # the synthetic run has suppressed cells (linkage zeros)
    assert "at least 10 persons behind every number" in html


def test_validity_section_degrades_and_consumes_validity_tables(results):
    inputs = report_inputs(results)
    inputs["tables"] = {k: v for k, v in inputs["tables"].items() if not k.startswith("validity/")}
    html = rp.build_report(**inputs, language="en", snapshot="synthetic", thresholds=Thresholds())
    missing = rp.TEXT["en"]["validity_missing"]
    assert missing in html
    inputs["tables"]["validity/balance.csv"] = pl.DataFrame(
        {"characteristic": ["age"], "coef": [0.01], "se": [0.02], "pvalue": [0.6], "n": [5988]}
    )
    html = rp.build_report(**inputs, language="en", snapshot="synthetic", thresholds=Thresholds())
    assert missing not in html
    assert "Balance: client characteristics" in html and "5,988" in html


def test_numbers_never_print_as_nine_digit_runs():
    fmt = rp.Formatter("en")
    assert fmt.int(123456789) == "123,456,789"
    assert rp.Formatter("nl").int(123456789) == "123.456.789"
    assert fmt.size(123456789) == "123.5 MB"
    assert rp.scan_report(rp.grouped_hash("a123456789b" + "0" * 53)) == []
    assert fmt.num(-0.04, 1) == "0.0"


def test_snakemake_report_with_a_caption_per_item(results, synthetic_dir, tmp_path):
    from conftest import snakemake

    archive = tmp_path / "report.zip"
    run = snakemake(synthetic_dir, results.name, "--report", str(archive))
    assert run.returncode == 0, run.stderr[-3000:]
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert any(n.endswith("/report.html") and "/data/" in n for n in names)
    assert sum(n.endswith(".png") for n in names) == len(FIGURES)
    assert any(n.endswith("table1.csv") for n in names)


def test_the_prose_follows_the_cohort_definitions_in_config():
    """No window, follow-up or age typed into the text: a 3-month window reads 'three months'."""
    cohort = {
        "referral_window_months": 3,
        "outcome_min_months": 4,
        "followup_months": 24,
        "age_min": 25,
        "age_max": 60,
    }
    for language, window, followup in (
        ("en", "three months", "two years"),
        ("nl", "drie maanden", "twee jaar"),
    ):
        values = rp.definitions(cohort, language)
        text = rp.with_definitions(rp.TEXT[language], values)
        steps = rp.with_definitions(rp.FLOW_STEPS[language], values)
        assert window in text["table2_note"] and window in steps["referral"]
        assert followup in text["table1_note"] and followup in text["summary_matching"]
        assert "25" in steps["age"] and "59" in steps["age"]
        prose = " ".join(v for v in [*text.values(), *steps.values()] if isinstance(v, str))
        for default in ("six months", "zes maanden", "three years", "drie jaar", " 64"):
            assert default not in prose
        assert "{coef}" in text["summary_matching"]  # filled later, with the estimate
    assert rp.duration(36, "en") == "three years" and rp.duration(13, "nl") == "13 maanden"
    assert rp.duration(3, "en", "consecutive") == "three consecutive months"


def test_every_run_writes_the_report_in_dutch_and_in_english(results):
    dutch = (results / "report.nl.html").read_text()
    english = (results / "report.en.html").read_text()
    assert '<html lang="nl">' in dutch and "In het kort" in dutch and "Figuur 1." in dutch
    assert '<html lang="en">' in english and "In short" in english and "Figure 1." in english
    assert "Figure 1." not in dutch and "In short" not in dutch
    # report.html is the one of config figures.language (en by default)
    assert (results / "report.html").read_bytes() == (results / "report.en.html").read_bytes()
    # the Dutch report's figures are drawn in Dutch
    assert "chronische aandoeningen" in (results / "figures" / "nl" / "prevalence.svg").read_text()
