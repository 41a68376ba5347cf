"""CBS microdata tables (the contract's columns and codes) built from synthetic persons.

Each function takes arrays about a block of persons and returns a polars frame of string columns,
ready for the writers: the same code serves the municipality (one block) and the national
population (many blocks of bounded size).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .calendar import (
    COVERAGE_END,
    N_MONTHS,
    OPEN_END_SENTINELS,
    first_day,
    last_day,
    text,
    ymd,
)
from .timelines import runs

ORIGIN_CODES = {
    "dutch": ["6030"],
    "moroccan_turkish": ["5022", "6043"],
    "surinamese_antillean": [
        "5007",
        "5007",
        "7011",
        "5095",
        "5016",
        "5107",
        "5108",
        "5109",
        "5110",
    ],
    "other": ["5049", "6002", "6014", "6024", "7044", "5054", "5015", "6007", "8045", "7024"],
}
EDUCATION_CODES = {
    "low": ["1111", "1112", "1211", "1212", "1213", "1221", "1222"],
    "middle": ["2111", "2112", "2121", "2131", "2132"],
    "high": ["3111", "3112", "3113", "3211", "3212", "3213"],
}
OTHER_MUNICIPALITIES = [
    "0363",
    "0518",
    "0344",
    "0014",
    "0034",
    "0193",
    "0200",
    "0268",
    "0307",
    "0402",
]
NON_CHRONIC_ATC = ["J01C", "J01F", "M01A", "N02B", "A07D", "R05D", "S01A", "D06A", "A03F", "G03A"]
RIN_MULTIPLIER = 387_420_489  # 3**18, coprime with 10**9: a bijection that scatters RINs
OBJECT_MULTIPLIER = 282_429_536_481  # 3**24, coprime with 10**12


def rin(index: np.ndarray) -> pl.Series:
    """Pseudonymous 9-digit RINPERSOON, zero-padded, unique per person index."""
    value = (np.asarray(index, dtype=np.int64) * RIN_MULTIPLIER + 123_456_789) % 10**9
    return pl.Series("RINPERSOON", value).cast(pl.String).str.zfill(9)


def object_number(index: np.ndarray) -> pl.Series:
    value = (np.asarray(index, dtype=np.int64) * OBJECT_MULTIPLIER + 98_765_432_109) % 10**12
    return pl.Series("RINOBJECTNUMMER", value).cast(pl.String).str.zfill(12)


def string_frame(columns: dict) -> pl.DataFrame:
    """A frame of String columns from strings, object arrays of strings or Series (an empty
    object array would otherwise become an Object column)."""
    return pl.DataFrame(columns, schema_overrides=dict.fromkeys(columns, pl.String))


def pick(rng: np.random.Generator, options: list[str], n: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def open_ends(rng: np.random.Generator, n: int) -> np.ndarray:
    """End dates of ongoing spells: the coverage end or any of the contract's sentinels."""
    weights = np.array([0.55, 0.05, 0.05, 0.1, 0.15, 0.1])
    return np.array(OPEN_END_SENTINELS, dtype=object)[
        rng.choice(len(OPEN_END_SENTINELS), n, p=weights / weights.sum())
    ]


def gba_person(
    rng: np.random.Generator,
    rins: pl.Series,
    sex: np.ndarray,
    birth_year: np.ndarray,
    birth_month: np.ndarray,
    migration: np.ndarray,
) -> pl.DataFrame:
    """GBAPERSOONTAB rows; migration is one of ORIGIN_CODES' keys or 'unknown'."""
    n = rins.len()
    origin = np.full(n, "----", dtype=object)
    for group, codes in ORIGIN_CODES.items():
        members = migration == group
        origin[members] = pick(rng, codes, int(members.sum()))
    generation = np.where(migration == "dutch", "0", np.where(rng.random(n) < 0.6, "1", "2"))
    return string_frame(
        {
            "RINPERSOONS": "R",
            "RINPERSOON": rins,
            "GBAGESLACHT": np.where(sex == "man", "1", np.where(sex == "woman", "2", "-")),
            "GBAGEBOORTEJAAR": text(birth_year),
            "GBAGEBOORTEMAAND": text(birth_month),
            "GBAHERKOMSTGROEPERING": origin,
            "GBAGENERATIE": generation,
        }
    ).with_columns(pl.col("GBAGEBOORTEMAAND").str.zfill(2))


def secm_spells(
    rng: np.random.Generator, rins: pl.Series, T: np.ndarray, older_version: bool = False
) -> pl.DataFrame:
    """SECMBUS: one row per run of the same code; runs reaching the coverage end are open.

    The older version covers one year less: its open spells end on 20171231, the last day it
    covers, and continue in the newer version (which must win)."""
    if older_version:
        T = T[:, : N_MONTHS - 12]
    person, start, end, code = runs(T)
    ongoing = end == T.shape[1] - 1
    ends = last_day(end).astype(object)
    ends[ongoing] = last_day(end[ongoing]) if older_version else open_ends(rng, int(ongoing.sum()))
    return string_frame(
        {
            "RINPERSOONS": "R",
            "RINPERSOON": rins.gather(person),
            "AANVSECM": first_day(start),
            "EINDSECM": ends,
            "SECM": text(code),
        }
    )


def address_spells(
    rng: np.random.Generator,
    rins: pl.Series,
    first_index: int,
    municipality: list[np.ndarray],
    moves: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """GBAADRESOBJECTBUS spells and the VSLGWBTAB rows of their objects.

    municipality[s] is where address s lies. moves[s] = (month, day) on which a person moves from
    address s to address s+1 (month -1: address s is the last; day >= 2, so that on the first day
    of the month of the move the person still lives at address s). Every address is a new object.
    """
    n = rins.len()
    begin = text(
        rng.integers(1995, 2010, n) * 10000 + rng.integers(1, 13, n) * 100 + rng.integers(1, 29, n)
    )
    alive = np.ones(n, dtype=bool)
    no_move = (np.full(n, -1), np.full(n, 2))
    frames, objects = [], []
    for s, muni in enumerate(municipality):
        month, day = moves[s] if s < len(moves) else no_move
        moving = alive & (month >= 0)
        safe = np.maximum(month, 0)
        end = np.where(moving, ymd(safe, day - 1), open_ends(rng, n))
        idx = np.flatnonzero(alive)
        obj = object_number((first_index + idx) * 4 + s)
        frames.append(
            string_frame(
                {
                    "RINPERSOONS": "R",
                    "RINPERSOON": rins.gather(idx),
                    "GBADATUMAANVANGADRESHOUDING": begin[idx],
                    "GBADATUMEINDEADRESHOUDING": end[idx],
                    "SOORTOBJECTNUMMER": "W",
                    "RINOBJECTNUMMER": obj,
                }
            )
        )
        objects.append(string_frame({"RINOBJECTNUMMER": obj, "gem": muni[idx]}))
        begin = np.where(moving, ymd(safe, day), begin)
        alive = moving
    spells = pl.concat(frames).sort("RINPERSOON", "GBADATUMAANVANGADRESHOUDING")
    vslgwb = pl.concat(objects).select(
        pl.lit("W").alias("SOORTOBJECTNUMMER"),
        "RINOBJECTNUMMER",
        *[pl.col("gem").alias(f"Gem{y}" if y == 2015 else f"gem{y}") for y in range(2010, 2019)],
    )
    return spells, vslgwb


def household_spells(
    rng: np.random.Generator,
    rins: pl.Series,
    ref: np.ndarray,
    single: np.ndarray,
    children: np.ndarray,
) -> pl.DataFrame:
    """GBAHUISHOUDENSBUS: two spells per person; the one covering the first day of `ref`
    (a month index) has the given single/children status, the other is random."""
    n = rins.len()
    change = rng.integers(-24, N_MONTHS + 24, n)  # month of the household change
    change_day = rng.integers(1, 28, n)  # the next spell starts the day after: at most the 28th
    covering_first = ref <= change
    attrs_ref = _household_attributes(rng, single, children)
    attrs_other = _household_attributes(rng, rng.random(n) < 0.6, rng.random(n) < 0.4)
    first = {k: np.where(covering_first, attrs_ref[k], attrs_other[k]) for k in attrs_ref}
    second = {k: np.where(covering_first, attrs_other[k], attrs_ref[k]) for k in attrs_ref}
    begin = text(rng.integers(1990, 2009, n) * 10000 + 101)
    boundary_end = ymd(np.clip(change, 0, N_MONTHS - 1), change_day)
    boundary_start = ymd(np.clip(change, 0, N_MONTHS - 1), change_day + 1)
    only_one = change >= N_MONTHS
    end_first = np.where(only_one, open_ends(rng, n), boundary_end)
    frames = [
        _household_frame(rins, begin, end_first, first, np.ones(n, bool)),
        _household_frame(rins, boundary_start, open_ends(rng, n), second, ~only_one),
    ]
    return pl.concat(frames).sort("RINPERSOON", "DATUMAANVANGHH")


def _household_attributes(rng, single, children) -> dict[str, np.ndarray]:
    n = single.size
    kids = rng.integers(1, 5, n)
    couple_kids = rng.random(n) < 0.5
    other = rng.random(n)
    plhh = np.select(
        [single & children, single & ~children, ~single & children, other < 0.7, other < 0.85],
        [7, 2, np.where(couple_kids, 5, 6), np.where(couple_kids, 3, 4), 1],
        8,
    )
    typhh = np.select(
        [plhh == 7, plhh == 2, plhh == 5, plhh == 6, plhh == 3, plhh == 4, plhh == 1],
        [6, 1, 4, 5, 2, 3, 5],
        7,
    )
    # a child living at home sits in a household with children, but has none of its own
    n_kids = np.where(children | (plhh == 1), kids, 0)
    return {"TYPHH": typhh, "PLHH": plhh, "AANTALKINDHH": n_kids}


def _household_frame(rins, begin, end, attrs, keep) -> pl.DataFrame:
    idx = np.flatnonzero(keep)
    return string_frame(
        {
            "RINPERSOONS": "R",
            "RINPERSOON": rins.gather(idx),
            "DATUMAANVANGHH": begin[idx],
            "DATUMEINDEHH": end[idx],
            "TYPHH": text(attrs["TYPHH"][idx]),
            "PLHH": text(attrs["PLHH"][idx]),
            "AANTALKINDHH": text(attrs["AANTALKINDHH"][idx]),
        }
    ).with_columns(pl.col("TYPHH", "PLHH").str.pad_start(2))


def education_rows(
    rng: np.random.Generator, rins: pl.Series, level: np.ndarray, present: np.ndarray
) -> pl.DataFrame:
    """HOOGSTEOPLTAB rows of one year: level in low/middle/high/unknown; absent persons omitted."""
    n = rins.len()
    code = np.full(n, "----", dtype=object)
    for name, codes in EDUCATION_CODES.items():
        members = level == name
        code[members] = pick(rng, codes, int(members.sum()))
    idx = np.flatnonzero(present)
    return string_frame(
        {
            "RINPERSOONS": "R",
            "RINPERSOON": rins.gather(idx),
            "OPLNIVSOI2016AGG4HBMETNIRWO": code[idx],
        }
    )


def presence_rows(rins: pl.Series, present: np.ndarray) -> pl.DataFrame:
    """Rows of a presence file (WANBZVWTAB): the persons flagged that year."""
    return string_frame({"RINPERSOONS": "R", "RINPERSOON": rins.filter(pl.Series(present))})


def condition_groups(
    rng: np.random.Generator,
    counts: np.ndarray,
    group_names: list[str],
    targets: dict[str, float],
    iterations: int = 12,
) -> np.ndarray:
    """Boolean (persons x groups): each person gets `counts` distinct groups.

    Weighted sampling without replacement (Gumbel top-k) with fixed noise; the weights of the
    groups in `targets` are adjusted until their prevalence is the target share.
    """
    n, g = counts.size, len(group_names)
    gumbel = rng.gumbel(size=(n, g))
    log_w = np.zeros(g)
    order_rank = None
    for _ in range(iterations):
        keys = log_w + gumbel
        order_rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
        has = order_rank < counts[:, None]
        for name, share in targets.items():
            j = group_names.index(name)
            current = max(has[:, j].mean(), 1e-6)
            log_w[j] += np.log(share / current)
    keys = log_w + gumbel
    order_rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    return order_rank < counts[:, None]


def medicine_rows(
    rng: np.random.Generator,
    rins: pl.Series,
    has_group: np.ndarray,
    group_codes: list[list[str]],
) -> pl.DataFrame:
    """MEDICIJNTAB rows of one year: one or two ATC4 codes per condition group, plus unrelated
    short-term medicines; one row per person and distinct code."""
    person, group = np.nonzero(has_group)
    sizes = np.array([len(c) for c in group_codes])
    first = rng.integers(0, sizes[group])
    second = rng.integers(0, sizes[group])
    both = rng.random(person.size) < 0.3
    flat = np.array([c for codes in group_codes for c in codes], dtype=object)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n = rins.len()
    extra_n = rng.poisson(0.6, n)
    extra_person = np.repeat(np.arange(n), extra_n)
    frame = pl.DataFrame(
        {
            "person": np.concatenate([person, person[both], extra_person]),
            "ATC4": np.concatenate(
                [
                    flat[offsets[group] + first],
                    flat[offsets[group[both]] + second[both]],
                    pick(rng, NON_CHRONIC_ATC, extra_person.size),
                ]
            ),
        },
        schema_overrides={"ATC4": pl.String},
    ).unique(maintain_order=True)
    return frame.select(
        pl.lit("R").alias("RINPERSOONS"),
        rins.gather(frame["person"].to_numpy()).alias("RINPERSOON"),
        "ATC4",
    ).sort("RINPERSOON", "ATC4")


__all__ = [
    "COVERAGE_END",
    "address_spells",
    "condition_groups",
    "education_rows",
    "gba_person",
    "household_spells",
    "medicine_rows",
    "presence_rows",
    "rin",
    "secm_spells",
]
