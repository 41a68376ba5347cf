"""The characteristics of the study, defined once: name, levels in order, Dutch and English labels,
the level left out of the regression dummies, and where they are derived.

Table 1, the covariates of every estimate, the balance and monotonicity checks, the subgroups, the
simulator, the synthetic generator and the figure and report labels all read this registry.
Adding a characteristic is one entry here plus its derivation in `cohort.characteristics`
(the SQL that computes it at the anchor date) and, for the synthetic data, its published shares
(config/published.yaml) and its weight in the generator's employability (synthetic.people).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

LANGUAGES = ("en", "nl")
UNKNOWN = {"en": "unknown", "nl": "onbekend"}
YES_NO = {"en": {"yes": "yes", "no": "no"}, "nl": {"yes": "ja", "no": "nee"}}


@dataclass(frozen=True)
class Characteristic:
    """One characteristic of a person at the anchor date.

    levels: Table 1's order (as the booklet prints them); a boolean characteristic has the levels
        yes and no (True and False in the cohort).
    reference: the level left out of the dummies (the largest or least employable group); None for
        a boolean characteristic, whose dummy is True.
    reading_order: the order of the levels in the design-check tables (least to most employable
        where that is an order), when it differs from `levels`.
    """

    name: str
    levels: tuple[str, ...]
    label: Mapping[str, str]
    level_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    reference: str | None = None
    reading_order: tuple[str, ...] | None = None

    @property
    def boolean(self) -> bool:
        return self.reference is None

    @property
    def check_levels(self) -> tuple[str, ...]:
        return self.reading_order or self.levels


REGISTRY: tuple[Characteristic, ...] = (
    Characteristic(
        "sex",
        ("man", "woman", "unknown"),
        {"en": "Sex", "nl": "Geslacht"},
        {"en": {"man": "man", "woman": "woman"}, "nl": {"man": "man", "woman": "vrouw"}},
        reference="man",
        reading_order=("man", "woman"),
    ),
    Characteristic(
        "age_group",
        ("18-30", "30-45", "45-55", "55-65"),
        {"en": "Age", "nl": "Leeftijd"},
        reference="18-30",
    ),
    Characteristic(
        "education",
        ("high", "middle", "low", "unknown"),
        {"en": "Education", "nl": "Opleiding"},
        {
            "en": {"high": "high", "middle": "middle", "low": "low"},
            "nl": {"high": "hoog", "middle": "middelbaar", "low": "laag"},
        },
        reference="low",
        reading_order=("low", "middle", "high", "unknown"),
    ),
    Characteristic(
        "work_history",
        ("none", "up_to_12", "over_12"),
        {"en": "Work in previous 4 years", "nl": "Werk in de 4 jaar ervoor"},
        {
            "en": {"none": "none", "up_to_12": "up to 12 months", "over_12": "more than 12 months"},
            "nl": {
                "none": "geen",
                "up_to_12": "hooguit 12 maanden",
                "over_12": "meer dan 12 maanden",
            },
        },
        reference="none",
    ),
    Characteristic(
        "migration",
        ("dutch", "moroccan_turkish", "surinamese_antillean", "other", "unknown"),
        {"en": "Migration background", "nl": "Migratieachtergrond"},
        {
            "en": {
                "dutch": "Dutch",
                "moroccan_turkish": "Moroccan, Turkish",
                "surinamese_antillean": "Surinamese, Antillean",
                "other": "other",
            },
            "nl": {
                "dutch": "Nederlands",
                "moroccan_turkish": "Marokkaans, Turks",
                "surinamese_antillean": "Surinaams, Antilliaans",
                "other": "overig",
            },
        },
        reference="dutch",
    ),
    Characteristic(
        "chronic",
        ("0", "1", "2", "3+"),
        {"en": "Chronic conditions", "nl": "Chronische aandoeningen"},
        {
            "en": {"0": "none", "1": "one", "2": "two", "3+": "three or more"},
            "nl": {"0": "geen", "1": "één", "2": "twee", "3+": "drie of meer"},
        },
        reference="0",
    ),
    Characteristic("debts", ("yes", "no"), {"en": "Debts", "nl": "Schulden"}, YES_NO),
    Characteristic("single", ("yes", "no"), {"en": "Single", "nl": "Alleenstaand"}, YES_NO),
    Characteristic("children", ("yes", "no"), {"en": "Children", "nl": "Kinderen"}, YES_NO),
)
BY_NAME: dict[str, Characteristic] = {c.name: c for c in REGISTRY}
NAMES: tuple[str, ...] = tuple(BY_NAME)
CATEGORICAL = tuple(c for c in REGISTRY if not c.boolean)
BOOLEAN = tuple(c for c in REGISTRY if c.boolean)


def level_labels(language: str, numbered: bool = False) -> dict[str, str]:
    """Label of every characteristic and of its named levels in one language (Unknown included).
    `numbered`: also the levels that are numbers (chronic conditions), which elsewhere print as
    they are."""
    labels: dict[str, str] = {c.name: c.label[language] for c in REGISTRY}
    for c in REGISTRY:
        for level, text in c.level_labels.get(language, {}).items():
            if numbered or not level[0].isdigit():
                labels[level] = text
    labels["unknown"] = UNKNOWN[language]
    return labels
