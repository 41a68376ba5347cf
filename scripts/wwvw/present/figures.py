"""The study's figures, drawn with altair from disclosure-checked aggregates only (results/
<snapshot>/safe/): no individual points, every bar and bin rests on at least 10 persons, and a
suppressed cell is simply not drawn.

Each `<name>_chart(frames, labels)` takes the safe tables as polars frames and returns an altair
chart whose title states the finding; `save` writes PNG (scale 2), SVG and HTML with the Vega
libraries inlined (no network), all deterministic. Labels come from `LABELS[language]` (en, nl),
so that every text of a figure is in one language.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import altair as alt
import polars as pl

from wwvw.cohort.registry import BY_NAME, LANGUAGES, YES_NO, level_labels
from wwvw.release.outputs import FIGURE_SOURCES, FIGURES  # noqa: F401  (re-exported)

FONT = "DejaVu Sans"
WIDTH = 560
DEPARTMENT_COLOURS = {"matching": "#0072B2", "prematching": "#E69F00", "activering": "#009E73"}
GROUP_COLOURS = {"bijstand": "#D55E00", "rest": "#8C8C8C"}
CHRONIC_COLOURS = {"0": "#0072B2", "1": "#56B4E9", "2": "#E69F00", "3+": "#D55E00"}
ESTIMATOR_COLOURS = {"ols": "#8C8C8C", "2sls": "#56B4E9", "ujive": "#0072B2", "jive1": "#CC79A7"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "matching": "Matching",
        "prematching": "Prematching",
        "activering": "Activering",
        "bijstand": "Bijstand recipients",
        "rest": "Other residents",
        "ols": "OLS (naive comparison)",
        "2sls": "2SLS (caseworker leniency)",
        "ujive": "UJIVE (caseworker leniency)",
        "jive1": "JIVE1 (caseworker leniency)",
        "data": "Data: snapshot {snapshot}",
        "synthetic": "synthetic data, not real persons",
        "propensity": "Caseworker's referral propensity (percentage points, net of location and quarter)",
        "share_clients": "Clients (% per point of propensity)",
        "referral_rate": "Referred to this department (%)",
        "leniency_title": "Clients of caseworkers who refer more often are more often referred",
        "leniency_title_neutral": "Caseworker propensity and referral",
        "leniency_sub": (
            "Per 10 points of caseworker propensity, referral rises by {slopes}. "
            "Bars: clients; dots: referral rate per bin; line: first-stage fit."
        ),
        "leniency_panel": "Referral to {department}",
        "condition": "Chronic condition",
        "pct_with": "Persons with the condition (%)",
        "prevalence_title": "Bijstand recipients more often have chronic conditions",
        "prevalence_title_neutral": "Chronic conditions of bijstand recipients and other residents",
        "prevalence_sub": (
            "Three or more conditions: {b3:.0f}% of bijstand recipients against {r3:.0f}% of other "
            "residents of the municipality ({year}; from dispensed medicines)."
        ),
        "months": "Months since the start of bijstand",
        "pct_started": "Started paid work (%, cumulative)",
        "chronic_n": "Chronic conditions",
        "ttw_title": "The more chronic conditions, the fewer people find work",
        "ttw_title_neutral": "Time to paid work by number of chronic conditions",
        "ttw_sub": (
            "After {month} months: {levels} have started paid work of at least 3 months "
            "(Kaplan-Meier; follow-up ends at the end of the data)."
        ),
        "ttw_level": "{pct:.0f}% with {level}",
        "effect": "Effect on starting paid work (percentage points, 95% interval)",
        "effect_short": "Effect on paid work (percentage points)",
        "treatment": "Referral instead of Prematching",
        "estimator": "Method",
        "estimates_title": "Comparing similar clients shrinks the gap: Matching helps, but less than it seems",
        "estimates_title_more": "Matching helps at least as much as a simple comparison suggests",
        "estimates_title_none": "Once similar clients are compared, no clear effect of Matching remains",
        "estimates_sub": (
            "Matching: naive difference {ols:+.0f} points, leniency estimate {iv:+.0f} points "
            "[{low:+.0f}, {high:+.0f}]. Activering: {act:+.0f} points [{act_low:+.0f}, {act_high:+.0f}]."
        ),
        "subgroups_title": "Matching helps in every group",
        "subgroups_title_neutral": "The effect of Matching per group",
        "subgroups_title_spec": "The estimates hardly depend on the specification",
        "subgroups_title_spec_neutral": "Estimates per specification",
        "subgroups_sub": "{estimator} estimate per subgroup with 95% interval; dashed: all clients.",
        "subgroups_cut": (
            "Intervals of small groups are cut at {low:.0f} and {high:.0f} points (they are wider)."
        ),
        "subgroups_sub_spec": (
            "Subgroup estimates are not part of this run yet: IV estimates per specification, "
            "95% interval."
        ),
        "subgroup": "Subgroup",
        "specification": "Specification",
        "interventions_title": "Each department works with its own set of interventions",
        "interventions_sub": (
            "Share of the department's clients with at least one intervention of the category; "
            "empty: fewer than 10 participants (not shown)."
        ),
        "category": "Intervention category",
        "department": "Department",
        "pct_department": "% of clients",
        "all": "all clients",
        "none": "none",
    },
    "nl": {
        "matching": "Matching",
        "prematching": "Prematching",
        "activering": "Activering",
        "bijstand": "Bijstandsontvangers",
        "rest": "Overige inwoners",
        "ols": "OLS (naïeve vergelijking)",
        "2sls": "2SLS (verwijsneiging consulent)",
        "ujive": "UJIVE (verwijsneiging consulent)",
        "jive1": "JIVE1 (verwijsneiging consulent)",
        "data": "Gegevens: snapshot {snapshot}",
        "synthetic": "synthetische gegevens, geen echte personen",
        "propensity": "Verwijsneiging van de consulent (procentpunten, gecorrigeerd voor locatie en kwartaal)",
        "share_clients": "Cliënten (% per punt verwijsneiging)",
        "referral_rate": "Verwezen naar deze afdeling (%)",
        "leniency_title": "Cliënten van consulenten die vaker verwijzen, worden vaker verwezen",
        "leniency_title_neutral": "Verwijsneiging van de consulent en verwijzing",
        "leniency_sub": (
            "Per 10 punten verwijsneiging van de consulent stijgt de verwijzing met {slopes}. "
            "Staven: cliënten; punten: verwijskans per klasse; lijn: eerste-fase-schatting."
        ),
        "leniency_panel": "Verwijzing naar {department}",
        "condition": "Chronische aandoening",
        "pct_with": "Personen met de aandoening (%)",
        "prevalence_title": "Bijstandsontvangers hebben vaker chronische aandoeningen",
        "prevalence_title_neutral": "Chronische aandoeningen van bijstandsontvangers en overige inwoners",
        "prevalence_sub": (
            "Drie of meer aandoeningen: {b3:.0f}% van de bijstandsontvangers tegen {r3:.0f}% van "
            "de overige inwoners van de gemeente ({year}; op basis van verstrekte medicijnen)."
        ),
        "months": "Maanden sinds de start van de bijstand",
        "pct_started": "Aan het werk (%, cumulatief)",
        "chronic_n": "Chronische aandoeningen",
        "ttw_title": "Hoe meer chronische aandoeningen, hoe minder mensen werk vinden",
        "ttw_title_neutral": "Tijd tot betaald werk naar aantal chronische aandoeningen",
        "ttw_sub": (
            "Na {month} maanden is {levels} aan betaald werk van minstens 3 maanden begonnen "
            "(Kaplan-Meier; de follow-up eindigt aan het eind van de gegevens)."
        ),
        "ttw_level": "{pct:.0f}% met {level}",
        "effect": "Effect op de start van betaald werk (procentpunten, 95%-interval)",
        "effect_short": "Effect op betaald werk (procentpunten)",
        "treatment": "Verwijzing in plaats van Prematching",
        "estimator": "Methode",
        "estimates_title": "Vergelijkbare cliënten vergeleken: Matching helpt, maar minder dan het lijkt",
        "estimates_title_more": "Matching helpt minstens zoveel als een eenvoudige vergelijking suggereert",
        "estimates_title_none": "Bij vergelijkbare cliënten blijft geen duidelijk effect van Matching over",
        "estimates_sub": (
            "Matching: naïef verschil {ols:+.0f} punten, schatting via de consulent {iv:+.0f} "
            "punten [{low:+.0f}, {high:+.0f}]. Activering: {act:+.0f} punten "
            "[{act_low:+.0f}, {act_high:+.0f}]."
        ),
        "subgroups_title": "Matching helpt in elke groep",
        "subgroups_title_neutral": "Het effect van Matching per groep",
        "subgroups_title_spec": "De schattingen hangen nauwelijks af van de specificatie",
        "subgroups_title_spec_neutral": "Schattingen per specificatie",
        "subgroups_sub": "{estimator}-schatting per subgroep met 95%-interval; gestreept: alle cliënten.",
        "subgroups_cut": (
            "Intervallen van kleine groepen zijn afgekapt bij {low:.0f} en {high:.0f} punten "
            "(ze zijn breder)."
        ),
        "subgroups_sub_spec": (
            "Schattingen per subgroep zitten nog niet in deze run: IV-schattingen per "
            "specificatie, 95%-interval."
        ),
        "subgroup": "Subgroep",
        "specification": "Specificatie",
        "interventions_title": "Elke afdeling werkt met een eigen set interventies",
        "interventions_sub": (
            "Aandeel van de cliënten van de afdeling met minstens één interventie in de "
            "categorie; leeg: minder dan 10 deelnemers (niet getoond)."
        ),
        "category": "Interventiecategorie",
        "department": "Afdeling",
        "pct_department": "% van cliënten",
        "all": "alle cliënten",
        "none": "geen",
    },
}

CONDITION_NAMES = {
    "en": {
        "cardiovascular": "Cardiovascular",
        "diabetes": "Diabetes",
        "common_mental": "Anxiety, depression",
        "psychotic": "Psychotic disorders",
        "respiratory": "Asthma, COPD",
        "inflammatory": "Inflammatory (rheumatism, psoriasis, eczema)",
        "epilepsy": "Epilepsy",
        "thyroid": "Thyroid",
        "acid_related": "Acid-related (stomach)",
        "pain": "Chronic pain",
        "parkinson": "Parkinson's disease",
        "gout": "Gout",
        "addiction": "Addiction",
        "three_or_more": "Three or more conditions",
    },
    "nl": {
        "cardiovascular": "Hart en vaten",
        "diabetes": "Diabetes",
        "common_mental": "Angst, depressie",
        "psychotic": "Psychotische stoornissen",
        "respiratory": "Astma, COPD",
        "inflammatory": "Ontstekingen (reuma, psoriasis, eczeem)",
        "epilepsy": "Epilepsie",
        "thyroid": "Schildklier",
        "acid_related": "Maagzuur",
        "pain": "Chronische pijn",
        "parkinson": "Parkinson",
        "gout": "Jicht",
        "addiction": "Verslaving",
        "three_or_more": "Drie of meer aandoeningen",
    },
}

CATEGORY_NAMES = {
    "en": {
        "LKS": "Wage-cost subsidy",
        "PROEF": "Trial placement",
        "WERKERV": "Work-experience place",
        "STAGE": "Work placement",
        "SOLL": "Job-application training",
        "JOBCOACH": "Job coaching",
        "SCHOLING": "Vocational training",
        "TAAL": "Language course",
        "DIAG": "Labour-market diagnosis",
        "MOTIV": "Motivation training",
        "DETACH": "Secondment, agency placement",
        "BESCHUT": "Sheltered work",
        "SOCACT": "Social activation",
        "VRIJW": "Volunteering",
        "TEGENP": "Quid-pro-quo duty",
        "ZORG": "Care route",
        "SCHULD": "Debt assistance",
        "OVERIG": "Other",
    },
    "nl": {
        "LKS": "Loonkostensubsidie",
        "PROEF": "Proefplaatsing",
        "WERKERV": "Werkervaringsplek",
        "STAGE": "Werkstage",
        "SOLL": "Sollicitatietraining",
        "JOBCOACH": "Jobcoaching",
        "SCHOLING": "Scholing",
        "TAAL": "Taalcursus",
        "DIAG": "Arbeidsmarktdiagnose",
        "MOTIV": "Motivatietraining",
        "DETACH": "Detachering, uitzendbureau",
        "BESCHUT": "Beschut werk",
        "SOCACT": "Sociale activering",
        "VRIJW": "Vrijwilligerswerk",
        "TEGENP": "Tegenprestatie",
        "ZORG": "Zorgtraject",
        "SCHULD": "Schuldhulpverlening",
        "OVERIG": "Overig",
    },
}

CHRONIC_LEVELS = {lang: dict(BY_NAME["chronic"].level_labels[lang]) for lang in LANGUAGES}

# characteristic and level names (the registry's), and the words of boolean columns
LEVEL_NAMES = {
    lang: level_labels(lang)
    | {
        "true": YES_NO[lang]["yes"],
        "false": YES_NO[lang]["no"],
        "total": {"en": "total", "nl": "totaal"}[lang],
    }
    for lang in LANGUAGES
}


def labels_for(language: str) -> dict[str, str]:
    if language not in LABELS:
        raise ValueError(f"figures.language must be one of {sorted(LABELS)}, not {language!r}")
    return LABELS[language]


def level_name(value: str, language: str) -> str:
    return LEVEL_NAMES[language].get(value, value)


def subgroup_label(subgroup: str, language: str) -> str:
    """'sex=woman' -> 'Sex: woman' in the chosen language."""
    if "=" not in subgroup:
        return level_name(subgroup, language)
    variable, level = subgroup.split("=", 1)
    return characteristic_label(variable, level, language)


def characteristic_label(characteristic: str, level: str, language: str) -> str:
    """'Chronic conditions: two', 'Debts: yes' in the chosen language."""
    if characteristic in ("chronic", "chronic_n"):
        value = CHRONIC_LEVELS[language].get(level, level)
    else:
        value = level_name(level, language)
    return f"{level_name(characteristic, language)}: {value}"


def theme(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """One font, sizes and title style for every figure."""
    return (
        chart.configure(font=FONT, background="white")
        .configure_title(
            fontSize=16, subtitleFontSize=12, anchor="start", subtitleColor="#444", offset=12
        )
        .configure_axis(labelFontSize=11, titleFontSize=12, grid=True, gridColor="#e8e8e8")
        .configure_legend(labelFontSize=11, titleFontSize=12, orient="bottom", labelLimit=0)
        .configure_header(labelFontSize=12, titleFontSize=12, labelFontWeight="bold")
        .configure_view(stroke=None)
    )


def title(text: str, subtitle: str | list[str], snapshot: str, labels: Mapping[str, str]):
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    source = labels["data"].format(snapshot=snapshot)
    if snapshot == "synthetic":
        source += f" ({labels['synthetic']})"
    return alt.TitleParams(text=text, subtitle=[*_wrap_all(lines), source])


def _wrap_all(lines: list[str], width: int = 95) -> list[str]:
    out = []
    for line in lines:
        words, current = line.split(), ""
        for word in words:
            if current and len(current) + 1 + len(word) > width:
                out.append(current)
                current = word
            else:
                current = f"{current} {word}".strip()
        if current:
            out.append(current)
    return out


def _rows(frame: pl.DataFrame) -> list[dict]:
    """Records for altair (inline data; no index, no NaN)."""
    return frame.fill_nan(None).to_dicts() if frame.height else []


def half_up(x: float, digits: int = 0) -> float:
    """Round half away from zero, as the labels drawn by Vega do (Python rounds half to even)."""
    if x is None or x != x:
        return float("nan")
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(str(x)).quantize(step, rounding=ROUND_HALF_UP))


def fmt_int(n: int, language: str) -> str:
    """32,450 (en) or 32.450 (nl)."""
    text = f"{int(n):,}"
    return text.replace(",", ".") if language == "nl" else text


# --- the figures -------------------------------------------------------------------------------


def leniency_chart(frames: Mapping[str, pl.DataFrame], labels, snapshot: str) -> alt.Chart:
    """Judge-design figure: distribution of caseworker propensities (bars) and referral rate per
    bin (dots) with the first-stage line, one panel per department."""
    bins = frames["tables/leniency.csv"].filter(pl.col("n").is_not_null())
    panels = []
    slopes: list[str] = []
    positive: list[bool] = []
    for department in [d for d in DEPARTMENT_COLOURS if d in set(bins["department"])]:
        data = bins.filter(pl.col("department") == department).with_columns(
            (pl.col("pct_of_clients") / (pl.col("upper") - pl.col("lower"))).alias("density")
        )
        colour = DEPARTMENT_COLOURS[department]
        name = labels[department]
        slopes.append(f"{10 * data['slope'][0]:.1f} ({name})")
        positive.append(data["slope"][0] > 0)
        base = alt.Chart(alt.Data(values=_rows(data)))
        x = alt.X("lower:Q", title=labels["propensity"])
        bars = base.mark_bar(color=colour, opacity=0.25, stroke="white").encode(
            x=x,
            x2="upper:Q",
            y=alt.Y("density:Q", title=labels["share_clients"]),
            y2=alt.datum(0),
        )
        rate = alt.Y(
            "pct_referred:Q",
            title=labels["referral_rate"],
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(orient="right", grid=False, titleColor=colour),
        )
        dots = base.mark_circle(color=colour, size=45, opacity=1).encode(x="z_mean:Q", y=rate)
        line = base.mark_line(color=colour, strokeWidth=2.5).encode(
            x="z_mean:Q", y=alt.Y("fitted_pct:Q", title=labels["referral_rate"])
        )
        panel = (
            alt.layer(bars, alt.layer(dots, line))
            .resolve_scale(y="independent")
            .properties(
                width=WIDTH,
                height=170,
                title=alt.TitleParams(
                    labels["leniency_panel"].format(department=name),
                    fontSize=13,
                    anchor="start",
                    color=colour,
                ),
            )
        )
        panels.append(panel)
    chart = alt.vconcat(*panels, spacing=28).properties(
        title=title(
            labels["leniency_title" if all(positive) else "leniency_title_neutral"],
            labels["leniency_sub"].format(slopes=", ".join(slopes)),
            snapshot,
            labels,
        )
    )
    return chart


def prevalence_chart(
    frames: Mapping[str, pl.DataFrame], labels, snapshot: str, language: str
) -> alt.Chart:
    """Figure 1: share with each chronic condition, bijstand recipients vs other residents."""
    table = frames["tables/chronic_prevalence.csv"].filter(pl.col("pct").is_not_null())
    names = CONDITION_NAMES[language]
    sizes = dict(table.group_by("group").agg(pl.col("n").first()).iter_rows())
    group_names = {
        g: f"{labels[g]} (n = {fmt_int(sizes[g], language)})"
        for g in ("bijstand", "rest")
        if g in sizes
    }
    data = table.with_columns(
        pl.col("condition").replace_strict(names, default=pl.col("condition")).alias("label"),
        pl.col("group").replace_strict(group_names, default=pl.col("group")).alias("group_label"),
    )
    bijstand = data.filter(pl.col("group") == "bijstand").sort(
        ["pct", "label"], descending=[True, False]
    )
    order = bijstand["label"].to_list()
    three = {
        g: data.filter((pl.col("group") == g) & (pl.col("condition") == "three_or_more"))["pct"]
        for g in ("bijstand", "rest")
    }
    more_often = bool(len(three["bijstand"]) and len(three["rest"])) and (
        three["bijstand"][0] > three["rest"][0]
    )
    year = int(table["year"][0]) if "year" in table.columns and table.height else ""
    sub = labels["prevalence_sub"].format(
        b3=half_up(three["bijstand"][0]) if len(three["bijstand"]) else float("nan"),
        r3=half_up(three["rest"][0]) if len(three["rest"]) else float("nan"),
        year=year,
    )
    groups = list(group_names.values())
    colour = alt.Color(
        "group_label:N",
        title=None,
        scale=alt.Scale(domain=groups, range=[GROUP_COLOURS[g] for g in group_names]),
        sort=groups,
    )
    base = alt.Chart(alt.Data(values=_rows(data))).encode(
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        yOffset=alt.YOffset("group_label:N", sort=groups),
    )
    bars = base.mark_bar(height=9).encode(x=alt.X("pct:Q", title=labels["pct_with"]), color=colour)
    text = base.mark_text(align="left", dx=3, fontSize=10, color="#333").encode(
        x="pct:Q", text=alt.Text("pct:Q", format=".0f")
    )
    return (bars + text).properties(
        width=WIDTH - 120,
        height=alt.Step(11),
        title=title(
            labels["prevalence_title" if more_often else "prevalence_title_neutral"],
            sub,
            snapshot,
            labels,
        ),
    )


def time_to_work_chart(
    frames: Mapping[str, pl.DataFrame], labels, snapshot: str, language: str
) -> alt.Chart:
    """Figure 2: cumulative share started work by months since the start of bijstand, per
    number of chronic conditions (coarsened Kaplan-Meier curve, censoring handled)."""
    table = frames["tables/time_to_work.csv"].filter(pl.col("pct_started").is_not_null())
    levels = CHRONIC_LEVELS[language]
    groups = [g for g in CHRONIC_COLOURS if g in set(table["group"].cast(pl.String))]
    origin = pl.DataFrame(
        {"group": groups, "month": [0] * len(groups), "pct_started": [0.0] * len(groups)}
    )
    data = pl.concat(
        [origin, table.select("group", "month", "pct_started").cast({"group": pl.String})],
        how="vertical_relaxed",
    ).with_columns(pl.col("group").replace_strict(levels, default=pl.col("group")).alias("level"))
    # the statement of the subtitle: the last published month up to 30 for every group
    month = 30
    at = []
    for g in groups:
        points = table.filter((pl.col("group") == g) & (pl.col("month") <= month))
        if points.height:
            pct = points.sort("month")["pct_started"][-1]
            at.append(labels["ttw_level"].format(pct=half_up(pct), level=levels.get(g, g)))
    sub = labels["ttw_sub"].format(month=month, levels=", ".join(at))
    common = table.group_by("month").agg(pl.len().alias("k")).filter(pl.col("k") == len(groups))
    ordered = False
    if common.height:
        last = table.filter(pl.col("month") == common["month"].max())
        by_group = dict(zip(last["group"].cast(pl.String), last["pct_started"], strict=True))
        values = [by_group[g] for g in groups]
        ordered = all(a > b for a, b in zip(values, values[1:], strict=False))
    domain = [levels.get(g, g) for g in groups]
    scale = alt.Scale(domain=domain, range=[CHRONIC_COLOURS[g] for g in groups])
    colour = alt.Color("level:N", title=labels["chronic_n"], sort=domain, scale=scale)
    base = alt.Chart(alt.Data(values=_rows(data))).encode(
        x=alt.X(
            "month:Q",
            title=labels["months"],
            scale=alt.Scale(domain=[0, 36]),
            axis=alt.Axis(values=list(range(0, 37, 6))),
        ),
        y=alt.Y("pct_started:Q", title=labels["pct_started"]),
        color=colour,
    )
    lines = base.mark_line(interpolate="step-after", strokeWidth=2.5)
    points = base.mark_point(filled=True, size=30)
    ends = (
        alt.Chart(
            alt.Data(values=_rows(data.sort("month").group_by("level", maintain_order=True).last()))
        )
        .mark_text(align="left", dx=6, fontSize=11)
        .encode(
            x="month:Q",
            y="pct_started:Q",
            text=alt.Text("pct_started:Q", format=".0f"),
            color=alt.Color("level:N", scale=scale, legend=None),
        )
    )
    return (lines + points + ends).properties(
        width=WIDTH,
        height=300,
        title=title(labels["ttw_title" if ordered else "ttw_title_neutral"], sub, snapshot, labels),
    )


def headline_rows(estimates: pl.DataFrame) -> pl.DataFrame:
    """OLS, 2SLS, UJIVE (and JIVE1) of the headline specification with its standard errors."""
    headline = estimates.filter(pl.col("headline").cast(pl.String).str.to_lowercase() == "true")
    if headline.height == 0:
        return headline
    spec, se_type = headline["specification"][0], headline["se_type"][0]
    return estimates.filter(
        (pl.col("specification") == spec)
        & (pl.col("se_type") == se_type)
        & (pl.col("subgroup") == "all")
        & pl.col("model").is_in(["ols", "iv"])
    )


def estimates_chart(frames: Mapping[str, pl.DataFrame], labels, snapshot: str) -> alt.Chart:
    """OLS vs 2SLS vs UJIVE per treatment: the naive gap against the leniency estimates."""
    rows = headline_rows(frames["estimates/estimates.csv"]).with_columns(
        pl.col(c).cast(pl.Float64) * 100 for c in ("coef", "ci_low", "ci_high")
    )
    estimators = [e for e in ESTIMATOR_COLOURS if e in set(rows["estimator"])]
    data = rows.with_columns(
        pl.col("estimator").replace_strict(labels, default=pl.col("estimator")).alias("method"),
        pl.col("treatment").replace_strict(labels, default=pl.col("treatment")).alias("arm"),
    )

    def value(treatment: str, estimator: str, column: str) -> float:
        hit = rows.filter((pl.col("treatment") == treatment) & (pl.col("estimator") == estimator))
        return half_up(float(hit[column][0])) if hit.height else float("nan")

    iv = rows.filter(pl.col("headline").cast(pl.String).str.to_lowercase() == "true")
    best = iv["estimator"][0] if iv.height else "2sls"
    sub = labels["estimates_sub"].format(
        ols=value("matching", "ols", "coef"),
        iv=value("matching", best, "coef"),
        low=value("matching", best, "ci_low"),
        high=value("matching", best, "ci_high"),
        act=value("activering", best, "coef"),
        act_low=value("activering", best, "ci_low"),
        act_high=value("activering", best, "ci_high"),
    )
    if not value("matching", best, "ci_low") > 0:
        heading = "estimates_title_none"
    elif value("matching", best, "coef") < value("matching", "ols", "coef"):
        heading = "estimates_title"
    else:
        heading = "estimates_title_more"
    methods = [labels[e] for e in estimators]
    colour = alt.Color(
        "method:N",
        title=labels["estimator"],
        sort=methods,
        scale=alt.Scale(domain=methods, range=[ESTIMATOR_COLOURS[e] for e in estimators]),
        legend=alt.Legend(orient="bottom", columns=2),
    )
    arms = [labels[t] for t in ("matching", "activering") if t in set(rows["treatment"])]
    base = alt.Chart(alt.Data(values=_rows(data))).encode(
        y=alt.Y("arm:N", sort=arms, title=labels["treatment"]),
        yOffset=alt.YOffset("method:N", sort=methods),
        color=colour,
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title=labels["effect"]), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=80, opacity=1).encode(x="coef:Q")
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color="#333").encode(x="x:Q")
    return (zero + rules + points).properties(
        width=WIDTH,
        height=alt.Step(22),
        title=title(labels[heading], sub, snapshot, labels),
    )


def subgroup_rows(frames: Mapping[str, pl.DataFrame], language: str) -> tuple[pl.DataFrame, bool]:
    """Subgroup estimates for the forest plot: validity/heterogeneity.csv when the validity stage
    ran, else subgroup rows of estimates.csv; without either, the IV estimates per specification
    (second value False). Columns: treatment, label, coef, ci_low, ci_high (percentage points),
    estimator."""
    columns = ["treatment", "label", "coef", "ci_low", "ci_high", "estimator"]
    het = frames.get("validity/heterogeneity.csv")
    estimates = frames["estimates/estimates.csv"]
    headline = headline_rows(estimates).filter(
        pl.col("headline").cast(pl.String).str.to_lowercase() == "true"
    )
    best = headline["estimator"][0] if headline.height else "2sls"
    se_type = headline["se_type"][0] if headline.height else None

    def percent(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col(c).cast(pl.Float64) * 100 for c in ("coef", "ci_low", "ci_high")
        ).filter(pl.col("coef").is_not_null())

    if het is not None and "row" in het.columns:
        het = het.filter(pl.col("row") == "subgroup")
    elif het is not None:
        het = het.filter((pl.col("characteristic") != "all") & (pl.col("level") != "equality_test"))
    if het is not None and het.height:
        chosen = het.filter(pl.col("estimator") == best) if "estimator" in het.columns else het
        chosen = chosen if chosen.height else het
        frame = percent(chosen).with_columns(
            pl.struct("characteristic", "level")
            .map_elements(
                lambda r: characteristic_label(str(r["characteristic"]), str(r["level"]), language),
                return_dtype=pl.String,
            )
            .alias("label"),
            pl.col("estimator") if "estimator" in het.columns else pl.lit(best).alias("estimator"),
        )
        return frame.select(columns), True
    sub = estimates.filter((pl.col("model") == "iv") & (pl.col("subgroup") != "all"))
    if se_type is not None:
        sub = sub.filter((pl.col("se_type") == se_type) & (pl.col("estimator") == best))
    if sub.height:
        frame = percent(sub).with_columns(
            pl.col("subgroup")
            .map_elements(lambda s: subgroup_label(s, language), return_dtype=pl.String)
            .alias("label")
        )
        return frame.select(columns), True
    specs = estimates.filter((pl.col("model") == "iv") & (pl.col("subgroup") == "all"))
    if se_type is not None:
        specs = specs.filter(pl.col("se_type") == se_type)
    frame = percent(specs).with_columns(
        pl.concat_str(pl.col("specification"), pl.lit(" · "), pl.col("estimator")).alias("label")
    )
    return frame.select(columns), False


def forest_domain(rows: pl.DataFrame) -> tuple[float, float, bool]:
    """The x range of the forest plot: the intervals of the well-estimated rows (width at most
    three times the median) and zero, with a margin, within [-100, 100] percentage points.
    Returns (low, high, whether some interval is cut)."""
    if rows.height == 0:
        return -10.0, 10.0, False
    width = rows["ci_high"] - rows["ci_low"]
    precise = rows.filter(width <= 3 * width.median())
    low = min(float(precise["ci_low"].min()), 0.0)
    high = max(float(precise["ci_high"].max()), 0.0)
    margin = 0.08 * (high - low) or 5.0
    low, high = max(-100.0, math.floor(low - margin)), min(100.0, math.ceil(high + margin))
    cut = bool(((rows["ci_low"] < low) | (rows["ci_high"] > high)).any())
    return float(low), float(high), cut


def subgroups_chart(
    frames: Mapping[str, pl.DataFrame], labels, snapshot: str, language: str
) -> alt.Chart:
    """Forest plot: the effect per subgroup (or per specification) with its 95% interval."""
    rows, by_subgroup = subgroup_rows(frames, language)
    overall = headline_rows(frames["estimates/estimates.csv"]).filter(
        pl.col("headline").cast(pl.String).str.to_lowercase() == "true"
    )
    estimator = overall["estimator"][0] if overall.height else "2sls"
    data = rows.with_columns(
        pl.col("treatment").replace_strict(labels, default=pl.col("treatment")).alias("arm")
    )
    overall_data = overall.select(
        pl.col("treatment").replace_strict(labels, default=pl.col("treatment")).alias("arm"),
        (pl.col("coef").cast(pl.Float64) * 100).alias("coef"),
    )
    arms = [labels[t] for t in ("matching", "activering") if t in set(rows["treatment"])]
    order = rows["label"].unique(maintain_order=True).to_list()
    low, high, cut = forest_domain(rows)
    panels = []
    for i, arm in enumerate(arms):
        colour = DEPARTMENT_COLOURS["matching" if arm == labels["matching"] else "activering"]
        part = data.filter(pl.col("arm") == arm).with_columns(
            pl.col("ci_low").clip(low, high), pl.col("ci_high").clip(low, high)
        )
        shared_labels = by_subgroup and i > 0
        base = alt.Chart(alt.Data(values=_rows(part))).encode(
            y=alt.Y(
                "label:N",
                sort=order,
                title=None,
                axis=alt.Axis(labelLimit=340, labels=not shared_labels, ticks=not shared_labels),
            )
        )
        x_scale = alt.Scale(domain=[low, high], nice=False)
        rules = base.mark_rule(color=colour, strokeWidth=2).encode(
            x=alt.X("ci_low:Q", title=labels["effect_short"], scale=x_scale), x2="ci_high:Q"
        )
        points = (
            base.transform_filter(f"datum.coef >= {low} && datum.coef <= {high}")
            .mark_point(filled=True, size=60, color=colour, opacity=1)
            .encode(x="coef:Q")
        )
        zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color="#333").encode(x="x:Q")
        layers = [zero, rules, points]
        mean = overall_data.filter(pl.col("arm") == arm)
        if mean.height:
            layers.append(
                alt.Chart(alt.Data(values=_rows(mean)))
                .mark_rule(color=colour, strokeDash=[5, 4], opacity=0.8)
                .encode(x="coef:Q")
            )
        panels.append(
            alt.layer(*layers).properties(
                width=WIDTH - 320 if len(arms) > 1 else WIDTH - 180,
                height=alt.Step(20),
                title=alt.TitleParams(arm, fontSize=13, anchor="start", color=colour),
            )
        )
    if by_subgroup:
        matching = rows.filter(pl.col("treatment") == "matching")
        everywhere = matching.height > 0 and bool((matching["ci_low"] > 0).all())
        heading = labels["subgroups_title" if everywhere else "subgroups_title_neutral"]
        sub = labels["subgroups_sub"].format(estimator=estimator.upper())
        if cut:
            sub += " " + labels["subgroups_cut"].format(low=low, high=high)
    else:
        matching = rows.filter(pl.col("treatment") == "matching")
        centre = overall.filter(pl.col("treatment") == "matching")
        steady = centre.height > 0 and bool(
            matching["coef"]
            .is_between(float(centre["ci_low"][0]) * 100, float(centre["ci_high"][0]) * 100)
            .all()
        )
        heading = labels["subgroups_title_spec" if steady else "subgroups_title_spec_neutral"]
        sub = labels["subgroups_sub_spec"]
    chart = alt.hconcat(*panels, spacing=20) if len(panels) > 1 else panels[0]
    if len(panels) > 1:
        chart = chart.resolve_scale(y="shared" if by_subgroup else "independent")
    return chart.properties(title=title(heading, sub, snapshot, labels))


def interventions_chart(
    frames: Mapping[str, pl.DataFrame], labels, snapshot: str, language: str
) -> alt.Chart:
    """Intervention categories by department: share of each department's clients, as a heat map
    with the percentages written in; suppressed cells (fewer than 10 participants) stay empty."""
    table = frames["tables/interventions_by_department.csv"].filter(
        pl.col("pct_of_department").is_not_null()
    )
    names = CATEGORY_NAMES[language]
    data = table.with_columns(
        pl.col("category").replace_strict(names, default=pl.col("category")).alias("label"),
        pl.col("department").replace_strict(labels, default=pl.col("department")).alias("dept"),
    )
    departments = [labels[d] for d in DEPARTMENT_COLOURS if labels[d] in set(data["dept"])]
    # order categories by the department where they matter most, then by share
    lead = (
        data.sort(["pct_of_department", "dept"], descending=[True, False])
        .group_by("label", maintain_order=True)
        .first()
        .with_columns(
            pl.col("dept").replace_strict(
                {d: i for i, d in enumerate(departments)}, return_dtype=pl.Int32
            )
        )
        .sort(["dept", "pct_of_department", "label"], descending=[False, True, False])
    )
    order = lead["label"].to_list()
    base = alt.Chart(alt.Data(values=_rows(data))).encode(
        x=alt.X(
            "dept:N",
            sort=departments,
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, grid=False, ticks=False, domain=False),
        ),
        y=alt.Y(
            "label:N",
            sort=order,
            title=labels["category"],
            axis=alt.Axis(grid=False, ticks=False, domain=False),
        ),
    )
    heat = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "pct_of_department:Q",
            title=labels["pct_department"],
            scale=alt.Scale(scheme="blues", domain=[0, 25], clamp=True),
            legend=alt.Legend(orient="right", gradientLength=160),
        )
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("pct_of_department:Q", format=".1f"),
        color=alt.condition("datum.pct_of_department > 12", alt.value("white"), alt.value("#222")),
    )
    return (heat + text).properties(
        width=alt.Step(120),
        height=alt.Step(20),
        title=title(labels["interventions_title"], labels["interventions_sub"], snapshot, labels),
    )


BUILDERS: dict[str, Callable] = {
    "leniency": lambda f, lab, s, lang: leniency_chart(f, lab, s),
    "prevalence": prevalence_chart,
    "time_to_work": time_to_work_chart,
    "estimates": lambda f, lab, s, lang: estimates_chart(f, lab, s),
    "subgroups": subgroups_chart,
    "interventions": interventions_chart,
}


def build(
    name: str, frames: Mapping[str, pl.DataFrame], language: str, snapshot: str
) -> alt.TopLevelMixin:
    """The themed chart `name` from the safe tables (export name -> frame)."""
    if name not in BUILDERS:
        raise ValueError(f"unknown figure {name!r}; expected one of {FIGURES}")
    return theme(BUILDERS[name](frames, labels_for(language), snapshot, language))


def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as the one script altair inlines into an HTML chart, for the
    Vega-Lite version of the installed altair. vl-convert bundles it anew in each process (about
    2.5 s), so the workflow bundles it once per installation (rule `vega_bundle`)."""
    import vl_convert
    from altair.vegalite import SCHEMA_VERSION

    return vl_convert.javascript_bundle(vl_version="_".join(SCHEMA_VERSION.split(".")[:2]))


EMBED_OPTIONS = {"actions": False, "renderer": "svg"}


class InlineTemplate:
    """altair's inline HTML template with a given JavaScript bundle (what `inline=True` would
    bundle again): `chart.save(..., template=InlineTemplate(bundle))` writes the same HTML."""

    def __init__(self, bundle: str):
        self.bundle = bundle

    def render(self, **fields) -> str:
        from altair.utils.html import INLINE_HTML_TEMPLATE

        return INLINE_HTML_TEMPLATE.render(vegaembed_script=self.bundle, **fields)


def save(
    chart: alt.TopLevelMixin,
    png: str | Path,
    svg: str | Path,
    html: str | Path,
    bundle: str | None = None,
) -> None:
    """SVG, the PNG rasterised from it at twice the size, and HTML with Vega, Vega-Lite and
    vega-embed inlined (`bundle`: that script, from `javascript_bundle`; else bundled here).
    Rasterising the SVG (resvg, as vl-convert's own PNG export does) saves running the chart's
    JavaScript a second time: about half a second a figure."""
    import vl_convert

    chart.save(str(svg))
    Path(png).write_bytes(vl_convert.svg_to_png(Path(svg).read_text(encoding="utf-8"), scale=2))
    template = InlineTemplate(bundle if bundle is not None else javascript_bundle())
    chart.save(str(html), format="html", template=template, embed_options=EMBED_OPTIONS)


def charts(
    safe_tables: Mapping[str, str | Path],
    sources: Mapping[str, Sequence[str]],
    names: Sequence[str],
    language: str,
    snapshot: str,
):
    """(name, chart) of each figure in `names`, every safe table read once."""
    needed = {name for figure in names for name in sources[figure]}
    frames = {
        name: pl.read_csv(safe_tables[name], infer_schema_length=None) for name in sorted(needed)
    }
    for figure in names:
        yield figure, build(figure, {n: frames[n] for n in sources[figure]}, language, snapshot)
