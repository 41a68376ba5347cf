"""The municipality's extracts as delivered to CBS: hand-entered, messy, in the contract's layout.

Mess that the contract promises and this module plants: mixed date formats within a file, the four
missing-value tokens, stray spaces and mixed case, exact duplicate rows, unlinked rows (empty
RINPERSOON), spelling variants of the departments, more than a hundred free-text spellings of the
interventions (case, spacing, abbreviations, typos, local code prefixes), UTF-8 with and without
BOM and Windows-1252.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

MISSING_TOKENS = ("", "NULL", "-", "onbekend")

DEPARTMENT_SPELLINGS = {
    "matching": ["Matching", "matching", "MATCHING", "Matching ", " matching", "Match"],
    "prematching": [
        "Prematching",
        "prematching",
        "Pre-matching",
        "PreMatching",
        "pre matching",
        "PREMATCHING ",
    ],
    "activering": ["Activering", "activering", "ACTIVERING", "Activering ", "Activeren"],
    "zorg": ["Zorg", "zorg", "ZORG"],
    "other": ["Schuldhulp", "Doorverwezen extern", "Uitstroom"],
}
# weights of the spelling variants: mostly the canonical spelling
DEPARTMENT_WEIGHTS = (0.7, 0.1, 0.06, 0.06, 0.04, 0.04)

INTERVENTION_BASES = {
    "LKS": ["Loonkostensubsidie", "LKS", "Loonkosten subsidie", "Loonkostensubsidie (LKS)"],
    "PROEF": ["Proefplaatsing", "Proef plaatsing", "Proefplaatsing bij werkgever"],
    "WERKERV": ["Werkervaringsplek", "Werkervaringsplaats", "Participatieplaats", "WEP"],
    "STAGE": ["Werkstage", "Leerwerkstage", "Stage"],
    "SOLL": ["Sollicitatietraining", "Sollicitatiecursus", "Training solliciteren"],
    "JOBCOACH": ["Jobcoaching", "Jobcoach", "Job coaching"],
    "SCHOLING": ["Scholing", "Vakopleiding", "Opleiding", "Certificaat VCA", "Beroepsopleiding"],
    "TAAL": ["Taalcursus", "NT2", "Taaltraject NT2", "Cursus Nederlandse taal"],
    "DIAG": ["Arbeidsmarktdiagnose", "Assessment", "Diagnose arbeidsmogelijkheden"],
    "MOTIV": ["Motivatietraining", "Empowermenttraining", "Empowerment"],
    "DETACH": ["Detachering", "Plaatsing via uitzendbureau", "Detacheringsbaan"],
    "BESCHUT": ["Beschut werk", "Beschutte werkplek"],
    "SOCACT": ["Sociale activering", "Dagbesteding", "Activeringstraject"],
    "VRIJW": ["Vrijwilligerswerk", "Vrijwilligers werk", "Coördinatie vrijwilligerswerk"],
    "TEGENP": ["Tegenprestatie", "Tegen prestatie"],
    "ZORG": ["Zorgtraject", "GGZ traject", "Verslavingszorg"],
    "SCHULD": ["Schuldhulpverlening", "Schuldhulp", "Schuldbemiddeling"],
    "OVERIG": ["Overig", "Diversen", "Maatwerktraject"],
}
CODE_PREFIXES = ("RE-07 ", "RE-12 ", "R03-", "P-14 ")
# categories each department mostly uses
DEPARTMENT_INTERVENTIONS = {
    "matching": ["LKS", "PROEF", "SOLL", "JOBCOACH", "DETACH", "SCHOLING"],
    "prematching": ["WERKERV", "STAGE", "SCHOLING", "TAAL", "DIAG", "MOTIV", "SOLL"],
    "activering": ["SOCACT", "VRIJW", "TEGENP", "ZORG", "SCHULD", "BESCHUT", "TAAL"],
}


def _typo(word: str, position: int) -> str:
    """Swap two adjacent letters in the middle of a word: a keying error."""
    i = min(max(position, 2), len(word) - 3)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def intervention_spellings() -> pl.DataFrame:
    """Every spelling the generator uses, with its true category and a relative frequency."""
    rows: list[tuple[str, str, float]] = []
    for category, bases in INTERVENTION_BASES.items():
        for b, base in enumerate(bases):
            rows.append((base, category, 10.0 if b == 0 else 3.0))
            rows.append((base.lower(), category, 1.0))
            rows.append((base.upper(), category, 0.5))
            rows.append((CODE_PREFIXES[b % len(CODE_PREFIXES)] + base, category, 0.8))
            if len(base) >= 10:
                rows.append((_typo(base, len(base) // 2), category, 0.3))
                rows.append(("  " + base.replace(" ", "  ") + " ", category, 0.3))
    frame = pl.DataFrame(rows, schema=["spelling", "category", "weight"], orient="row")
    return frame.unique("spelling", keep="first", maintain_order=True)


def format_dates(rng: np.random.Generator, dates: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """dd-mm-yyyy, d-m-yyyy or yyyy-mm-dd at random; missing ones as one of the missing tokens."""
    day = pl.Series(np.asarray(dates, dtype="datetime64[D]")).cast(pl.Date)
    formats = [day.dt.strftime(f) for f in ("%d-%m-%Y", "%-d-%-m-%Y", "%Y-%m-%d")]
    choice = rng.choice(3, day.len(), p=[0.5, 0.2, 0.3])
    out = np.where(choice == 0, formats[0], np.where(choice == 1, formats[1], formats[2])).astype(
        object
    )
    missing = np.asarray(missing, dtype=bool) | day.is_null().to_numpy()
    out[missing] = np.array(MISSING_TOKENS, dtype=object)[rng.integers(0, 4, int(missing.sum()))]
    return out.astype(str)


def spell_department(rng: np.random.Generator, department: np.ndarray) -> np.ndarray:
    out = np.empty(department.size, dtype=object)
    for dept, spellings in DEPARTMENT_SPELLINGS.items():
        members = np.flatnonzero(department == dept)
        w = np.array(DEPARTMENT_WEIGHTS[: len(spellings)])
        out[members] = np.array(spellings, dtype=object)[
            rng.choice(len(spellings), members.size, p=w / w.sum())
        ]
    empty = department == "none"
    out[empty] = np.array(MISSING_TOKENS, dtype=object)[rng.integers(0, 4, int(empty.sum()))]
    return out.astype(str)


def messy_case(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Stray spaces and mixed case on a share of hand-entered values."""
    values = np.asarray(values, dtype=object)
    kind = rng.choice(4, values.size, p=[0.85, 0.05, 0.05, 0.05])
    out = values.copy()
    out[kind == 1] = [v + " " for v in values[kind == 1]]
    out[kind == 2] = [v.upper() for v in values[kind == 2]]
    out[kind == 3] = [" " + v.lower() for v in values[kind == 3]]
    return out.astype(str)


def with_mess(
    rng: np.random.Generator, frame: pl.DataFrame, duplicate_share: float, unlinked: pl.DataFrame
) -> pl.DataFrame:
    """Append unlinked rows and exact duplicates, then shuffle the row order."""
    frame = pl.concat([frame, unlinked.select(frame.columns)])
    dup = frame[np.flatnonzero(rng.random(frame.height) < duplicate_share).tolist()]
    frame = pl.concat([frame, dup])
    return frame[rng.permutation(frame.height).tolist()]


def write_extract(frame: pl.DataFrame, path: Path, encoding: str) -> None:
    """Semicolon CSV with a header row, every value written as given (no quoting of tokens)."""
    text = frame.write_csv(separator=";", quote_style="necessary", line_terminator="\r\n")
    data = text.encode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    path.write_bytes(data)
