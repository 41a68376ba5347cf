"""The report for a municipal reader: one self-contained HTML file (CSS inline, every figure as
inline SVG, no script, no external address), in English or Dutch, built only from the safe tables,
the figures drawn from them, their output checks and provenance.json.

`build_report` returns the HTML text; `scan_report` is the last guard (no RIN-like number, no
external URL) before it is written. Numbers that could look like a person key are never printed
whole: integers carry thousands separators, byte sizes are in MB, hashes in groups of eight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl
import yaml

from wwvw.ingest.interventions import METHODS
from wwvw.present.figures import (
    CATEGORY_NAMES,
    CHRONIC_LEVELS,
    LABELS,
    fmt_int,
    half_up,
    headline_rows,
    level_name,
)
from wwvw.release import disclosure as sdc
from wwvw.release.outputs import FIGURE_NUMBERS, FIGURES

TEMPLATE = Path(__file__).with_name("templates") / "report.html.j2"
SUPPRESSED = "·"
KEY_PACKAGES = (
    "snakemake",
    "polars",
    "duckdb",
    "numpy",
    "scipy",
    "pyfixest",
    "linearmodels",
    "altair",
    "vl-convert-python",
)
EXTERNAL_URL = re.compile(
    r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|\b(?:src|href)\s*=\s*[\"']?(?:https?:|//)"
)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "What works for whom: re-integration programmes and paid work",
        "subtitle": "Results of snapshot {snapshot}",
        "synthetic_warning": (
            "These results come from synthetic data generated to resemble the real registers. "
            "They describe no real person and are meant for testing the method only."
        ),
        "summary": "In short",
        "summary_matching": (
            "Being referred to <b>Matching</b> instead of Prematching changes the chance of "
            "starting paid work (at least {outcome_min}, within {followup}) by "
            "<b>{coef} percentage points</b> (95% interval {low} to {high})."
        ),
        "summary_activering": (
            "Being referred to <b>Activering</b> instead of Prematching changes it by "
            "<b>{coef} percentage points</b> (95% interval {low} to {high})."
        ),
        "summary_naive": (
            "A simple comparison of the departments suggests much bigger differences: "
            "{shares}. Most of that gap is due to who is sent where, not to the programme."
        ),
        "summary_significant": "This effect is statistically distinguishable from zero.",
        "summary_not_significant": "This effect cannot be distinguished from zero.",
        "method": "How the effect was estimated",
        "method_text": [
            "Caseworkers send their most employable clients to Matching, so comparing the "
            "results of the departments mixes the effect of the programme with the differences "
            "between the clients. We therefore use a natural experiment.",
            "At the work intake, clients are assigned to an intake caseworker more or less by "
            "chance: within a location and a quarter it is not the client's profile that "
            "determines whom they see. Some caseworkers refer more often to Matching than others, "
            "even for similar clients. Clients of such caseworkers are therefore more often in "
            "Matching for a reason that has nothing to do with themselves.",
            "Comparing the work outcomes of clients of caseworkers who refer often with those of "
            "caseworkers who refer rarely gives the effect of the programme for the clients whose "
            "referral depends on the caseworker. A caseworker's propensity is computed from their "
            "other clients (leave-one-out) and net of location and quarter. Technical terms: "
            "instrumental variables (2SLS, UJIVE), judge or examiner leniency design.",
        ],
        "population": "Who was studied",
        "flow": "From register to analysis cohort",
        "table1": "Table 1. The study population",
        "table1_note": (
            "Everyone in the municipality with at least one month of bijstand in the study window, "
            "by characteristic; 'started work' is paid work of at least {outcome_min_consecutive} "
            "within {followup}."
        ),
        "programmes": "The departments and what they do",
        "table2": "Table 2. The analysis cohort by department",
        "table2_note": (
            "Persons whose benefit started in the cohort year and who were referred to one of the "
            "three departments within {window}."
        ),
        "effects": "Effects on paid work",
        "estimates_table": "Estimates (percentage points)",
        "diagnostics": "Strength of the instrument",
        "diagnostics_note": (
            "A first-stage F statistic well above 10 means that caseworkers really differ in how "
            "they refer, so the estimates are not driven by chance differences."
        ),
        "subgroups": "For whom",
        "validity": "Checks of the design",
        "validity_missing": (
            "The checks of the design (balance of client characteristics across caseworkers, "
            "monotonicity, complier characteristics, placebo outcomes) are not part of this run yet."
        ),
        "validity_intro": (
            "The design rests on assumptions that can partly be checked. Each table below is one "
            "such check."
        ),
        "validity_names": {
            "balance": (
                "Balance: client characteristics should not depend on the caseworker's propensity "
                "(as good as random assignment)."
            ),
            "monotonicity": (
                "Monotonicity: a caseworker who refers more often overall should do so in every "
                "group of clients."
            ),
            "compliers": (
                "Compliers: who are the clients whose referral depends on the caseworker?"
            ),
            "heterogeneity": "Effects per subgroup, with p-values corrected for multiple testing.",
            "placebo": (
                "Placebo: outcomes that the programme cannot have changed should show no effect."
            ),
        },
        "quality": "Data quality",
        "linkage": "Linkage of the sources",
        "linkage_note": "Rows and persons per source and how many were linked on the person key.",
        "harmonisation": "Harmonisation of intervention registrations",
        "harmonisation_note": (
            "The municipality registers interventions as free text. Each spelling was placed in a "
            "reference category, exactly or by fuzzy matching; spellings that could not be placed "
            "are 'other'."
        ),
        "disclosure": "Disclosure control",
        "disclosure_text": (
            "Only aggregates leave the CBS environment, and only after the CBS output rules: at "
            "least {min_persons} persons behind every number, for shares at least {min_events} "
            "with and {min_events} without the attribute, no minima or maxima, models with at "
            "least {min_df} residual degrees of freedom, and no number that could be recovered "
            "from the totals. A dot ({dot}) marks a number that was suppressed for this reason."
        ),
        "disclosure_summary": "Checks: {passed} passed, {suppressed} with suppression.",
        "provenance": "Provenance",
        "provenance_intro": (
            "Everything needed to reproduce these results: the input files with their versions "
            "and fingerprints, the configuration, the software versions and the code version."
        ),
        "inputs": "Input files",
        "config": "Configuration",
        "packages": "Software versions",
        "all_packages": "All locked packages",
        "code": "Code version",
        "modified": "the working copy differed from this commit",
        "unmodified": "no local changes",
        "figure": "Figure",
        "characteristic": "Characteristic",
        "level": "Level",
        "n": "Persons",
        "pct": "%",
        "n_started": "Started work",
        "pct_started": "% of starters",
        "pct_started_dept": "% started work",
        "department": "Department",
        "total": "Total",
        "all": "all",
        "step": "Step",
        "persons_left": "Persons",
        "source": "Source",
        "rows": "Rows",
        "persons": "Persons",
        "linked": "Linked persons",
        "unlinked": "Unlinked rows",
        "category": "Category",
        "exact": "Exact",
        "fuzzy": "Fuzzy",
        "core": "Core phrase",
        "unmapped": "Not placed",
        "registrations": "Registrations",
        "treatment": "Treatment",
        "method_col": "Method",
        "estimate": "Estimate",
        "interval": "95% interval",
        "pvalue": "p-value",
        "specification": "Specification",
        "first_stage_f": "First-stage F",
        "sw_f": "Sanderson-Windmeijer F",
        "file": "File",
        "used_as": "Used as",
        "version": "Version",
        "size": "Size",
        "sha256": "SHA-256",
        "package": "Package",
        "check": "Check",
        "status": "Status",
        "what": "What was suppressed",
        "generated": "Snapshot {snapshot}; language {language}.",
    },
    "nl": {
        "title": "Wat werkt voor wie: re-integratie en betaald werk",
        "subtitle": "Resultaten van snapshot {snapshot}",
        "synthetic_warning": (
            "Deze resultaten komen uit synthetische gegevens die op de echte registers lijken. "
            "Ze gaan over geen enkel echt persoon en dienen alleen om de methode te testen."
        ),
        "summary": "In het kort",
        "summary_matching": (
            "Een verwijzing naar <b>Matching</b> in plaats van Prematching verandert de kans om "
            "aan betaald werk te beginnen (minstens {outcome_min}, binnen {followup}) met "
            "<b>{coef} procentpunt</b> (95%-interval {low} tot {high})."
        ),
        "summary_activering": (
            "Een verwijzing naar <b>Activering</b> in plaats van Prematching verandert die kans "
            "met <b>{coef} procentpunt</b> (95%-interval {low} tot {high})."
        ),
        "summary_naive": (
            "Een eenvoudige vergelijking van de afdelingen suggereert veel grotere verschillen: "
            "{shares}. Het grootste deel van dat verschil komt doordat verschillende cliënten naar "
            "verschillende afdelingen gaan, niet door het programma."
        ),
        "summary_significant": "Dit effect is statistisch van nul te onderscheiden.",
        "summary_not_significant": "Dit effect is niet van nul te onderscheiden.",
        "method": "Hoe het effect is geschat",
        "method_text": [
            "Consulenten sturen hun best bemiddelbare cliënten naar Matching. Wie de resultaten "
            "van de afdelingen vergelijkt, ziet dus het effect van het programma vermengd met de "
            "verschillen tussen de cliënten. Daarom gebruiken we een natuurlijk experiment.",
            "Bij de werkintake komen cliënten min of meer bij toeval bij een consulent terecht: "
            "binnen een locatie en een kwartaal bepaalt niet het profiel van de cliënt wie de "
            "intake doet. Sommige consulenten verwijzen vaker naar Matching dan andere, ook bij "
            "vergelijkbare cliënten. Hun cliënten zitten dus vaker in Matching om een reden die "
            "niets met henzelf te maken heeft.",
            "Door de uitkomsten van cliënten van vaak en weinig verwijzende consulenten te "
            "vergelijken, schatten we het effect van het programma voor de cliënten bij wie de "
            "verwijzing van de consulent afhangt. De verwijsneiging van een consulent wordt "
            "berekend uit diens andere cliënten (leave-one-out), gecorrigeerd voor locatie en "
            "kwartaal. Vaktermen: instrumentele variabelen (2SLS, UJIVE), 'judge leniency'-design.",
        ],
        "population": "Wie zijn onderzocht",
        "flow": "Van register naar onderzoeksgroep",
        "table1": "Tabel 1. De onderzoekspopulatie",
        "table1_note": (
            "Iedereen in de gemeente met minstens één maand bijstand in de onderzoeksperiode, naar "
            "kenmerk; 'aan het werk' is betaald werk van minstens {outcome_min_consecutive} "
            "binnen {followup}."
        ),
        "programmes": "De afdelingen en wat zij doen",
        "table2": "Tabel 2. De onderzoeksgroep naar afdeling",
        "table2_note": (
            "Personen van wie de uitkering in het cohortjaar begon en die binnen {window} naar "
            "een van de drie afdelingen zijn verwezen."
        ),
        "effects": "Effecten op betaald werk",
        "estimates_table": "Schattingen (procentpunten)",
        "diagnostics": "Sterkte van het instrument",
        "diagnostics_note": (
            "Een F-waarde van de eerste fase ruim boven 10 betekent dat consulenten echt "
            "verschillen in hoe ze verwijzen, zodat de schattingen niet op toeval berusten."
        ),
        "subgroups": "Voor wie",
        "validity": "Controles van het onderzoeksontwerp",
        "validity_missing": (
            "De controles van het ontwerp (balans van cliëntkenmerken tussen consulenten, "
            "monotoniciteit, kenmerken van 'compliers', placebo-uitkomsten) zitten nog niet in "
            "deze run."
        ),
        "validity_intro": (
            "Het ontwerp rust op aannames die deels te controleren zijn. Elke tabel hieronder is "
            "zo'n controle."
        ),
        "validity_names": {
            "balance": (
                "Balans: kenmerken van cliënten horen niet af te hangen van de verwijsneiging van "
                "de consulent (toewijzing zo goed als willekeurig)."
            ),
            "monotonicity": (
                "Monotoniciteit: een consulent die vaker verwijst, doet dat in elke groep cliënten."
            ),
            "compliers": "Compliers: bij welke cliënten hangt de verwijzing van de consulent af?",
            "heterogeneity": (
                "Effecten per subgroep, met p-waarden gecorrigeerd voor meervoudig toetsen."
            ),
            "placebo": (
                "Placebo: uitkomsten die het programma niet kan hebben veranderd, horen geen "
                "effect te tonen."
            ),
        },
        "quality": "Kwaliteit van de gegevens",
        "linkage": "Koppeling van de bronnen",
        "linkage_note": "Rijen en personen per bron en hoeveel er op het persoonsnummer gekoppeld zijn.",
        "harmonisation": "Harmonisatie van de interventieregistratie",
        "harmonisation_note": (
            "De gemeente registreert interventies als vrije tekst. Elke schrijfwijze is in een "
            "referentiecategorie geplaatst, exact of met 'fuzzy matching'; wat niet te plaatsen "
            "was, valt onder 'overig'."
        ),
        "disclosure": "Onthullingscontrole",
        "disclosure_text": (
            "Alleen geaggregeerde uitkomsten verlaten de CBS-omgeving, en pas na de CBS-regels: "
            "achter elk getal minstens {min_persons} personen, bij aandelen minstens {min_events} "
            "met en {min_events} zonder het kenmerk, geen minima of maxima, modellen met minstens "
            "{min_df} vrijheidsgraden, en geen getal dat uit de totalen terug te rekenen is. Een "
            "punt ({dot}) staat voor een getal dat daarom is weggelaten."
        ),
        "disclosure_summary": "Controles: {passed} geslaagd, {suppressed} met onderdrukking.",
        "provenance": "Herkomst",
        "provenance_intro": (
            "Alles wat nodig is om deze resultaten te herhalen: de invoerbestanden met versies en "
            "vingerafdrukken, de configuratie, de softwareversies en de versie van de code."
        ),
        "inputs": "Invoerbestanden",
        "config": "Configuratie",
        "packages": "Softwareversies",
        "all_packages": "Alle vastgelegde pakketten",
        "code": "Versie van de code",
        "modified": "de werkkopie week af van deze commit",
        "unmodified": "geen lokale wijzigingen",
        "figure": "Figuur",
        "characteristic": "Kenmerk",
        "level": "Waarde",
        "n": "Personen",
        "pct": "%",
        "n_started": "Aan het werk",
        "pct_started": "% van wie werk vond",
        "pct_started_dept": "% aan het werk",
        "department": "Afdeling",
        "total": "Totaal",
        "all": "alle",
        "step": "Stap",
        "persons_left": "Personen",
        "source": "Bron",
        "rows": "Rijen",
        "persons": "Personen",
        "linked": "Gekoppelde personen",
        "unlinked": "Niet gekoppelde rijen",
        "category": "Categorie",
        "exact": "Exact",
        "fuzzy": "Fuzzy",
        "core": "Kernwoord",
        "unmapped": "Niet geplaatst",
        "registrations": "Registraties",
        "treatment": "Behandeling",
        "method_col": "Methode",
        "estimate": "Schatting",
        "interval": "95%-interval",
        "pvalue": "p-waarde",
        "specification": "Specificatie",
        "first_stage_f": "F eerste fase",
        "sw_f": "Sanderson-Windmeijer F",
        "file": "Bestand",
        "used_as": "Gebruikt als",
        "version": "Versie",
        "size": "Grootte",
        "sha256": "SHA-256",
        "package": "Pakket",
        "check": "Controle",
        "status": "Status",
        "what": "Wat is weggelaten",
        "generated": "Snapshot {snapshot}; taal {language}.",
    },
}

FLOW_STEPS = {
    "en": {
        "bijstand_in_window": "At least one month of bijstand in the study window",
        "resident": "... in a month in which they lived in the municipality",
        "age": "... aged {age_min} to {age_last} (study population)",
        "benefit_start": "... whose benefit started in the cohort year",
        "referral": "... referred to one of the three departments within {window} (cohort)",
    },
    "nl": {
        "bijstand_in_window": "Minstens één maand bijstand in de onderzoeksperiode",
        "resident": "... in een maand waarin zij in de gemeente woonden",
        "age": "... van {age_min} tot en met {age_last} jaar (onderzoekspopulatie)",
        "benefit_start": "... van wie de uitkering in het cohortjaar begon",
        "referral": "... binnen {window} verwezen naar een van de drie afdelingen (cohort)",
    },
}


NUMBER_WORDS = {
    "en": [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ],
    "nl": [
        "nul",
        "één",
        "twee",
        "drie",
        "vier",
        "vijf",
        "zes",
        "zeven",
        "acht",
        "negen",
        "tien",
        "elf",
        "twaalf",
    ],
}
UNITS = {
    "en": {"month": ("month", "months"), "year": ("year", "years")},
    "nl": {"month": ("maand", "maanden"), "year": ("jaar", "jaar")},
}


CONSECUTIVE = {"en": "consecutive", "nl": "aaneengesloten"}


def duration(months: int, language: str, adjective: str = "") -> str:
    """A number of months in words: whole years as years ('three years', 'drie jaar'), numbers
    up to twelve spelled out; `adjective` goes before the unit ('three consecutive months')."""
    count, unit = (months // 12, "year") if months >= 12 and months % 12 == 0 else (months, "month")
    words = NUMBER_WORDS[language]
    number = words[count] if count < len(words) else str(count)
    return " ".join(filter(None, [number, adjective, UNITS[language][unit][count != 1]]))


class _Kept(dict):
    """format_map mapping that keeps placeholders it does not know ({coef} is filled later)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def definitions(cohort: Mapping, language: str) -> dict[str, str]:
    """The study's definitions as the prose says them, from the config's `cohort` section (as
    provenance.json records it): no window, age or follow-up is typed into the text."""
    return {
        "window": duration(cohort["referral_window_months"], language),
        "outcome_min": duration(cohort["outcome_min_months"], language),
        "outcome_min_consecutive": duration(
            cohort["outcome_min_months"], language, CONSECUTIVE[language]
        ),
        "followup": duration(cohort["followup_months"], language),
        "age_min": str(cohort["age_min"]),
        "age_last": str(cohort["age_max"] - 1),
    }


def with_definitions(texts: Mapping, values: Mapping[str, str]) -> dict:
    """Every string of `texts` with the definitions filled in (other placeholders kept)."""
    return {
        key: value.format_map(_Kept(values)) if isinstance(value, str) else value
        for key, value in texts.items()
    }


@dataclass(frozen=True)
class Table:
    """A table as the template shows it: header, rows of cells (already formatted text)."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: Sequence[bool]
    classes: Sequence[str] = ()


class Formatter:
    """Numbers in the report's language; a missing (suppressed) value is a dot."""

    def __init__(self, language: str):
        self.language = language

    def _decimal(self, text: str) -> str:
        if self.language != "nl":
            return text
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")

    def int(self, value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return SUPPRESSED
        return fmt_int(int(round(float(value))), self.language)

    def num(self, value, digits: int = 1, sign: bool = False) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return SUPPRESSED
        rounded = half_up(float(value), digits) + 0.0  # no negative zero
        if rounded == 0:
            rounded = 0.0
        text = f"{rounded:+,.{digits}f}" if sign else f"{rounded:,.{digits}f}"
        return self._decimal(text.replace("-", "−"))

    def pvalue(self, value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return SUPPRESSED
        value = float(value)
        return "< " + self._decimal("0.001") if value < 0.001 else self.num(value, 3)

    def size(self, n_bytes) -> str:
        if n_bytes is None:
            return ""
        return self.num(float(n_bytes) / 1e6, 1) + " MB"


def grouped_hash(digest: str | None, group: int = 8) -> str:
    """A hex digest in groups of eight characters: readable, and no nine-digit run."""
    if not digest:
        return ""
    return " ".join(digest[i : i + group] for i in range(0, len(digest), group))


def _is_true(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.to_lowercase() == "true"


# --- sections ----------------------------------------------------------------------------------


def table1_view(table1: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    lang = fmt.language
    rows, classes = [], []
    for row in table1.iter_rows(named=True):
        if row["level"] == "total" and row["characteristic"] != "total":
            continue
        if row["characteristic"] == "total":
            label, level = text["total"], ""
            classes.append("total")
        else:
            label = level_name(row["characteristic"], lang)
            level = row["level"]
            level = (
                CHRONIC_LEVELS[lang].get(level, level)
                if row["characteristic"] == "chronic"
                else level_name(level, lang)
            )
            classes.append("")
        rows.append(
            [
                label,
                level,
                fmt.int(row["n"]),
                fmt.num(row["pct"]),
                fmt.int(row["n_started"]),
                fmt.num(row["pct_started"]),
            ]
        )
    # the characteristic is printed once per block
    previous = None
    for cells in rows:
        if cells[0] == previous:
            cells[0] = ""
        else:
            previous = cells[0]
    header = [
        text["characteristic"],
        text["level"],
        text["n"],
        text["pct"],
        text["n_started"],
        text["pct_started"],
    ]
    return Table(header, rows, [False, False, True, True, True, True], classes)


def table2_view(table2: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    labels = LABELS[fmt.language]
    rows, classes = [], []
    for row in table2.iter_rows(named=True):
        total = row["department"] == "total"
        rows.append(
            [
                text["total"] if total else labels.get(row["department"], row["department"]),
                fmt.int(row["n"]),
                fmt.int(row["n_started"]),
                fmt.num(row["pct_started"]),
            ]
        )
        classes.append("total" if total else "")
    header = [text["department"], text["n"], text["n_started"], text["pct_started_dept"]]
    return Table(header, rows, [False, True, True, True], classes)


def flow_view(flow: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    steps = with_definitions(FLOW_STEPS[fmt.language], text["definitions"])
    rows = [
        [steps.get(r["step"], r["description"]), fmt.int(r["n"])]
        for r in flow.iter_rows(named=True)
    ]
    return Table([text["step"], text["persons_left"]], rows, [False, True])


def linkage_view(linkage: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    rows = [
        [
            r["source"],
            fmt.int(r["rows"]),
            fmt.int(r["persons"]),
            fmt.int(r["linked_persons"]),
            fmt.int(r["unlinked_rows"]),
        ]
        for r in linkage.iter_rows(named=True)
    ]
    header = [text["source"], text["rows"], text["persons"], text["linked"], text["unlinked"]]
    return Table(header, rows, [False, True, True, True, True])


def harmonisation_view(summary: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    names = CATEGORY_NAMES[fmt.language]
    wide = {}
    for r in summary.iter_rows(named=True):
        wide.setdefault(r["category"], {})[r["method"]] = r
    rows = []
    for category in sorted(wide, key=lambda c: -(wide[c].get("all", {}).get("rows") or 0)):
        cells = wide[category]
        rows.append(
            [names.get(category, category)]
            + [fmt.int(cells[m]["rows"]) if m in cells else "" for m in (*METHODS, "all")]
        )
    header = [text["category"], *(text[m] for m in METHODS), text["registrations"]]
    return Table(header, rows, [False, *(True for _ in METHODS), True])


def estimates_view(estimates: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    labels = LABELS[fmt.language]
    rows = []
    for r in headline_rows(estimates).iter_rows(named=True):
        rows.append(
            [
                labels.get(r["treatment"], r["treatment"]),
                labels.get(r["estimator"], r["estimator"]),
                fmt.num(100 * float(r["coef"]), 1, sign=True),
                f"{fmt.num(100 * float(r['ci_low']), 1)} … {fmt.num(100 * float(r['ci_high']), 1)}",
                fmt.pvalue(r["pvalue"]),
                fmt.int(r["n"]),
            ]
        )
    header = [
        text["treatment"],
        text["method_col"],
        text["estimate"],
        text["interval"],
        text["pvalue"],
        text["n"],
    ]
    return Table(header, rows, [False, False, True, True, True, True])


def diagnostics_view(diagnostics: pl.DataFrame, text: Mapping, fmt: Formatter) -> Table:
    labels = LABELS[fmt.language]
    rows = [
        [
            r["specification"],
            labels.get(r["treatment"], r["treatment"]),
            fmt.num(r.get("first_stage_f"), 0),
            fmt.num(r.get("sanderson_windmeijer_f"), 0),
            fmt.int(r["n"]),
        ]
        for r in diagnostics.filter(pl.col("subgroup") == "all").iter_rows(named=True)
    ]
    header = [
        text["specification"],
        text["treatment"],
        text["first_stage_f"],
        text["sw_f"],
        text["n"],
    ]
    return Table(header, rows, [False, False, True, True, True])


def generic_view(
    frame: pl.DataFrame, fmt: Formatter, limit: int = 60, max_columns: int = 11
) -> Table:
    """Any safe table as it is: counts as integers, other numbers with three decimals; a dot
    where a cell was suppressed, blank where the table has no value."""
    columns = [
        c
        for c in frame.columns
        if not c.endswith("_suppressed") and frame.get_column(c).null_count() < frame.height
    ][:max_columns]
    shown = frame.head(limit)
    numeric = [shown.schema[c].is_numeric() for c in columns]
    rows = []
    for row in shown.iter_rows(named=True):
        cells = []
        for c in columns:
            value, dtype = row[c], shown.schema[c]
            if value is None:
                cells.append(SUPPRESSED if row.get(f"{c}_suppressed") in (True, "true") else "")
            elif dtype.is_integer():
                cells.append(fmt.int(value))
            elif dtype.is_float():
                cells.append(fmt.num(value, 3))
            else:
                cells.append(str(value))
        rows.append(cells)
    return Table(columns, rows, numeric)


def checks_view(checks: pl.DataFrame, text: Mapping) -> Table:
    suppressed = checks.filter(pl.col("status") == "suppressed")
    rows = [[r["file"], r["check"], r["detail"]] for r in suppressed.iter_rows(named=True)]
    return Table([text["file"], text["check"], text["what"]], rows, [False, False, False])


def provenance_view(provenance: Mapping, text: Mapping, fmt: Formatter) -> dict:
    inputs = Table(
        [text["file"], text["used_as"], text["version"], text["size"], text["sha256"]],
        [
            [
                str(i.get("file", "")),
                str(i.get("used_as") or ""),
                str(i.get("version") or ""),
                fmt.size(i.get("bytes")),
                grouped_hash(i.get("sha256")),
            ]
            for i in provenance.get("inputs", [])
        ],
        [False, False, False, True, False],
        ["hash"] * len(provenance.get("inputs", [])),
    )
    packages = provenance.get("packages", {})
    key = Table(
        [text["package"], text["version"]],
        [[p, packages[p]] for p in KEY_PACKAGES if p in packages],
        [False, False],
    )
    everything = Table(
        [text["package"], text["version"]],
        [[p, v] for p, v in sorted(packages.items())],
        [False, False],
    )
    code = provenance.get("code", {})
    modified = code.get("modified_since_commit")
    return {
        "inputs": inputs,
        "key_packages": key,
        "all_packages": everything,
        "commit": grouped_hash(code.get("commit")) or "unknown",
        "modified": text["modified"] if modified else text["unmodified"],
        "config": yaml.safe_dump(provenance.get("config", {}), sort_keys=True, allow_unicode=True),
        "data_dir": provenance.get("data_dir", ""),
    }


def summary_view(tables: Mapping[str, pl.DataFrame], text: Mapping, fmt: Formatter) -> list[str]:
    """The plain-language findings, from the headline estimates and Table 2."""
    estimates = tables["estimates/estimates.csv"]
    headline = estimates.filter((pl.col("model") == "iv") & _is_true("headline"))
    sentences = []
    for treatment in ("matching", "activering"):
        hit = headline.filter(pl.col("treatment") == treatment)
        if not hit.height:
            continue
        r = hit.row(0, named=True)
        sentence = text[f"summary_{treatment}"].format(
            coef=fmt.num(100 * float(r["coef"]), 1, sign=True),
            low=fmt.num(100 * float(r["ci_low"]), 1, sign=True),
            high=fmt.num(100 * float(r["ci_high"]), 1, sign=True),
        )
        significant = float(r["ci_low"]) > 0 or float(r["ci_high"]) < 0
        sentence += " " + text["summary_significant" if significant else "summary_not_significant"]
        sentences.append(sentence)
    labels = LABELS[fmt.language]
    table2 = tables["tables/table2.csv"].filter(pl.col("department") != "total")
    shares = ", ".join(
        f"{labels.get(r['department'], r['department'])} {fmt.num(r['pct_started'], 0)}%"
        for r in table2.iter_rows(named=True)
    )
    sentences.append(text["summary_naive"].format(shares=shares))
    return sentences


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG for inlining in HTML: no XML prolog, no namespace URLs (HTML needs none), ids made
    unique per figure so that several charts cannot clash."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return svg.replace("<svg", f'<svg role="img" data-figure="{prefix}"', 1)


def build_report(
    tables: Mapping[str, pl.DataFrame],
    checks: pl.DataFrame,
    figures: Mapping[str, str],
    provenance: Mapping,
    language: str,
    snapshot: str,
    thresholds: sdc.Thresholds,
) -> str:
    """The report's HTML. `tables`: export name -> safe table; `figures`: name -> SVG text."""
    if language not in TEXT:
        raise ValueError(f"figures.language must be one of {sorted(TEXT)}, not {language!r}")
    values = definitions(provenance["config"]["cohort"], language)
    text = with_definitions(TEXT[language], values) | {"definitions": values}
    fmt = Formatter(language)
    validity = {
        Path(name).stem: generic_view(frame, fmt)
        for name, frame in sorted(tables.items())
        if name.startswith("validity/")
    }
    statuses = dict(checks.group_by("status").len().iter_rows())
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    figure_captions = {name: _caption(name, language) for name in FIGURES if name in figures}
    html = environment.get_template(TEMPLATE.name).render(
        t=text,
        language=language,
        snapshot=snapshot,
        synthetic=snapshot == "synthetic" or provenance.get("data_dir") == "resources/synthetic",
        summary=summary_view(tables, text, fmt),
        figures={name: inline_svg(svg, f"fig-{name}") for name, svg in figures.items()},
        captions=figure_captions,
        numbers=FIGURE_NUMBERS,
        flow=flow_view(tables["cohort/flow.csv"], text, fmt),
        table1=table1_view(tables["tables/table1.csv"], text, fmt),
        table2=table2_view(tables["tables/table2.csv"], text, fmt),
        estimates=estimates_view(tables["estimates/estimates.csv"], text, fmt),
        diagnostics=diagnostics_view(tables["estimates/diagnostics.csv"], text, fmt),
        linkage=linkage_view(tables["qc/linkage.csv"], text, fmt),
        harmonisation=harmonisation_view(tables["qc/interventions.csv"], text, fmt),
        validity=validity,
        checks=checks_view(checks, text),
        disclosure_text=text["disclosure_text"].format(
            min_persons=thresholds.min_persons,
            min_events=thresholds.min_events,
            min_df=thresholds.min_residual_df,
            dot=SUPPRESSED,
        ),
        disclosure_summary=text["disclosure_summary"].format(
            passed=statuses.get("pass", 0), suppressed=statuses.get("suppressed", 0)
        ),
        provenance=provenance_view(provenance, text, fmt),
    )
    return html


def _caption(name: str, language: str) -> str:
    captions = {
        "en": {
            "leniency": "The instrument: caseworkers differ in how often they refer, and their "
            "clients are referred accordingly.",
            "prevalence": "Chronic conditions of bijstand recipients and other residents.",
            "time_to_work": "Time to paid work by number of chronic conditions.",
            "estimates": "Naive comparison against the caseworker-leniency estimates.",
            "subgroups": "Effects per subgroup.",
            "interventions": "Interventions per department.",
        },
        "nl": {
            "leniency": "Het instrument: consulenten verschillen in hoe vaak ze verwijzen, en "
            "hun cliënten worden daarnaar verwezen.",
            "prevalence": "Chronische aandoeningen van bijstandsontvangers en overige inwoners.",
            "time_to_work": "Tijd tot betaald werk naar aantal chronische aandoeningen.",
            "estimates": "Naïeve vergelijking tegenover de schattingen via de consulent.",
            "subgroups": "Effecten per subgroep.",
            "interventions": "Interventies per afdeling.",
        },
    }
    return captions[language][name]


def scan_report(html: str) -> list[str]:
    """Problems that keep the report from leaving: RIN-like numbers, external addresses."""
    problems = [str(f) for f in sdc.scan_for_identifiers(html, source="report.html")]
    if EXTERNAL_URL.search(html):
        problems.append("report.html: refers to an external address (the report must be offline)")
    return problems


def load_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
