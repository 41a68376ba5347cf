"""Generate the synthetic snapshot: CBS files, municipal extracts and the truth, in the real layout.

Three populations share the files:
- the study population: residents of the municipality with a month of bijstand in the study window,
  calibrated to Table 1, and inside it the analysis cohort, drawn from the planted design;
- the rest of the municipality (Figure 1's comparison group), a few with bijstand outside the window;
- people elsewhere in the country, some on bijstand there, some moving in later: the residence
  filter has to keep them out. `scale` multiplies only this group, in blocks of bounded size.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from wwvw.core.logs import Progress

from . import design as dgp
from . import municipal, people, registers
from .calendar import N_MONTHS, month_index, stream, to_datetime64, year_of
from .layout import CBS_FILES, MUNICIPAL_FILES, TABLES
from .timelines import markov_timelines, qualifying_work, runs, study_timelines
from .writers import open_writer

log = logging.getLogger(__name__)

OUTSIDE_BASE = 60_000
BLOCK = 500_000
OUTSIDE_SWITCH = 0.10  # monthly chance of a new draw of the income source, people elsewhere
MOVERS_IN = 400  # on bijstand elsewhere in 2015, moved into the municipality in 2016, working
REGISTER_YEARS = {
    "HOOGSTEOPL": (2015, 2016, 2017),
    "WANBZVW": (2014, 2015, 2016),
    "MEDICIJN": (2014, 2015, 2016),
}
REST_CHRONIC_COUNTS = {0: 0.55, 1: 0.22, 2: 0.13, 3: 0.06, 4: 0.03, 5: 0.01}
EFFECTS_DEFINITION = (
    "Effect of referral (at the first intake within the referral window) to the department instead "
    "of Prematching on the probability of the outcome (paid work of at least the minimum duration "
    "starting within the follow-up), for cohort members. The structural model makes it the same "
    "for every client whose effect is planted (Y(d) = 1{U < p0 + tau_d}), so it equals the ATE and "
    "every LATE; with effect_max_age set it applies only to clients younger than that age."
)


@dataclass
class Block:
    """Everything the register writers need about a block of persons."""

    first_index: int
    rins: pl.Series
    sex: np.ndarray
    birth_year: np.ndarray
    birth_month: np.ndarray
    migration: np.ndarray
    timeline: np.ndarray
    municipality: list[np.ndarray]
    moves: list[tuple[np.ndarray, np.ndarray]]
    education: dict[int, tuple[np.ndarray, np.ndarray]]  # year -> (level, present)
    debts: dict[int, np.ndarray]
    conditions: np.ndarray  # persons x groups
    household_ref: np.ndarray
    single: np.ndarray
    children: np.ndarray


def generate(
    out_dir: Path,
    published: dict,
    cohort_cfg: dict,
    synth_cfg: dict,
    municipality: str,
    condition_groups: dict[str, list[str]],
) -> dict:
    out_dir = Path(out_dir)
    for sub in ("cbs", "municipal", "truth"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    seed = synth_cfg["seed"]
    rules = people.CohortRules.from_config(cohort_cfg)
    design = people.cohort_design(synth_cfg)
    group_names = list(condition_groups)
    group_codes = [condition_groups[g] for g in group_names]

    study, truth, cohort_frame = build_study_population(
        seed, published, rules, design, municipality, group_names
    )
    rest = build_rest_of_municipality(
        seed, published, municipality, study.first_index + study.rins.len(), group_names
    )
    n_outside = int(round(OUTSIDE_BASE * synth_cfg["scale"]))
    first_outside = rest.first_index + rest.rins.len()

    writers = {name: _open(out_dir / "cbs" / name, kind) for name, kind in CBS_FILES.items()}
    rng_files = stream(seed, "files")
    write_block(rng_files, writers, study, group_codes, provisional=True)
    write_block(rng_files, writers, rest, group_codes, provisional=False)
    start = 0
    progress = Progress(log, "persons outside the municipality generated", n_outside)
    while start < n_outside:
        size = min(BLOCK, n_outside - start)
        block = build_outside_block(
            seed, start, size, first_outside + start, municipality, group_names
        )
        write_block(rng_files, writers, block, group_codes, provisional=False)
        log.info("outside block %d-%d written", start, start + size)
        progress.update(size)
        start += size
    write_gba_traps(rng_files, writers, study)
    counts = {}
    for name, writer in writers.items():
        writer.close()
        counts[name] = writer.rows

    write_municipal(seed, out_dir / "municipal", study, rest, truth, cohort_frame, municipality)
    figure1 = figure1_truth(study, rest, truth, group_names, municipality, rules)
    summary = write_truth(
        out_dir / "truth", truth, published, design, synth_cfg, counts, figure1, rules
    )
    return summary


def _open(path: Path, kind: str):
    spec = TABLES[kind]
    return open_writer(
        path,
        spec["widths"],
        column_labels=spec["labels"],
        value_labels=spec["values"],
        file_label=path.stem,
    )


# ----------------------------------------------------------------------------- study population
def build_study_population(seed, published, rules, design, municipality, group_names):
    rng = stream(seed, "study")
    n = published["study_population"]["n"]
    kinds, ref = people.reference_months(rng, n, rules)
    cov = people.draw_covariates(rng, published, ref)
    index_obs = people.observed_employability(cov)
    e, _ = dgp.employability(rng, index_obs, design)
    noise = rng.normal(0, design.referral_noise_sd, n)
    uniform = rng.random(n)
    window = rules.outcome_window(ref)

    # the analysis cohort: part of the 2015 inflow, referred within the window by a random caseworker
    n_cohort = sum(v[0] for v in published["cohort"]["table2"].values())
    inflow = np.flatnonzero(kinds == "inflow_2015")
    cohort_idx = np.sort(rng.choice(inflow, n_cohort, replace=False))
    in_cohort = np.zeros(n, dtype=bool)
    in_cohort[cohort_idx] = True
    start_day = rng.integers(1, 29, n)
    benefit_start = to_datetime64(ref, start_day)
    intake = benefit_start + rng.integers(5, 151, n).astype("timedelta64[D]")
    referral = intake + rng.integers(0, 21, n).astype("timedelta64[D]")
    location = rng.integers(0, len(design.locations), n)
    period = (
        _quarter(intake)
        - _quarter(np.array([np.datetime64(f"{rules.benefit_start_year}-01-01")]))[0]
    )
    has_intake = in_cohort | np.isin(kinds, ["inflow_2016", "inflow_2017"])
    period = np.clip(period, 0, design.periods - 1)
    roster = dgp.caseworker_roster(stream(seed, "caseworkers"), design)
    cw = np.full(n, -1)
    cw[has_intake] = dgp.assign_caseworkers(rng, location[has_intake], period[has_intake], roster)
    zm = np.where(cw >= 0, roster["leniency_matching"].to_numpy()[cw], 0.0)
    za = np.where(cw >= 0, roster["leniency_activering"].to_numpy()[cw], 0.0)
    dept = np.full(n, -1, dtype=np.int8)
    dept[in_cohort] = dgp.refer(
        e[in_cohort], noise[in_cohort], zm[in_cohort], za[in_cohort], design
    )
    later = has_intake & ~in_cohort
    dept[later] = dgp.refer(e[later], noise[later], zm[later], za[later], design)
    p0 = np.full(n, np.nan)
    p0[in_cohort] = dgp.baseline_probability(e[in_cohort], dept[in_cohort], design)
    effects = dgp.individual_effects(cov["age"].to_numpy(), design)
    potential = dgp.potential_outcomes(uniform, np.nan_to_num(p0), effects)
    cohort_outcome = np.zeros(n, dtype=bool)
    for k, name in enumerate(dgp.DEPARTMENTS):
        chosen = in_cohort & (dept == k)
        cohort_outcome[chosen] = potential[name][chosen]
    outcome = people.calibrate_outcomes(
        cov, published, in_cohort, cohort_outcome, window >= 1, uniform
    )
    offset = np.where(outcome, people.work_start_offsets(rng, window), -1)

    T = study_timelines(
        rng,
        ref,
        kinds == "stock",
        cov["work_months"].to_numpy(),
        outcome,
        offset,
        window,
        rules.study_start,
    )
    check = qualifying_work(
        T, ref, rules.outcome_min_months, rules.followup_months, rules.followup_end
    )
    if not np.array_equal(check, offset):
        raise AssertionError(f"timeline and outcome disagree for {(check != offset).sum()} persons")

    # residence: most always lived here; some moved in before the reference month, some moved out
    mover = rng.random(n)
    other = registers.pick(rng, registers.OTHER_MUNICIPALITIES, n)
    move_in = mover < 0.08
    move_out = (mover >= 0.08) & (mover < 0.12)
    within = (mover >= 0.12) & (mover < 0.27)
    move_month = np.full(n, -1)
    move_month[move_in] = ref[move_in] - 1 - rng.integers(0, 40, move_in.sum())
    move_month[move_out] = ref[move_out] + rng.integers(0, N_MONTHS - ref[move_out])
    move_month[within] = rng.integers(0, N_MONTHS, within.sum())
    move_month = np.clip(move_month, -1, N_MONTHS - 1)
    move_month[move_in] = np.maximum(move_month[move_in], 0)
    home = np.full(n, municipality, dtype=object)
    muni0 = np.where(move_in, other, home)
    muni1 = np.where(move_out, other, home)
    resident = _resident(muni0, muni1, move_month, municipality)
    bij = (T == 22) & resident
    months = np.arange(N_MONTHS)
    in_window = (months >= rules.study_start) & (months <= rules.study_end)
    first = np.where((bij & in_window).any(axis=1), np.argmax(bij & in_window, axis=1), -1)
    if not np.array_equal(first, ref):
        raise AssertionError(f"reference month differs for {(first != ref).sum()} persons")

    debts = _debts(rng, cov["debts"].to_numpy(), year_of(ref) - 1)
    education = _education_years(rng, cov["education"].to_numpy(), year_of(ref))
    chronic_targets = published["figure1"]["bijstand"]
    conditions = registers.condition_groups(
        rng,
        cov["chronic_n"].to_numpy(),
        group_names,
        {
            "inflammatory": chronic_targets["inflammatory"],
            "common_mental": chronic_targets["common_mental"],
        },
    )
    rins = registers.rin(np.arange(n))
    block = Block(
        first_index=0,
        rins=rins,
        sex=cov["sex"].to_numpy(),
        birth_year=cov["birth_year"].to_numpy(),
        birth_month=cov["birth_month"].to_numpy(),
        migration=cov["migration"].to_numpy(),
        timeline=T,
        municipality=[muni0.astype(str), muni1.astype(str)],
        moves=[(move_month, rng.integers(2, 29, n))],
        education=education,
        debts=debts,
        conditions=conditions,
        household_ref=ref,
        single=cov["single"].to_numpy(),
        children=cov["children"].to_numpy(),
    )
    dept_name = np.array([None, *dgp.DEPARTMENTS], dtype=object)[dept + 1]
    truth = cov.select(pl.exclude("birth_year", "birth_month")).with_columns(
        pl.Series("RINPERSOONS", ["R"] * n),
        rins,
        pl.Series("entry", kinds),
        pl.Series("reference_month", ref),
        pl.Series("reference_date", to_datetime64(ref, np.ones(n, int))),
        pl.Series("in_cohort", in_cohort),
        pl.Series("benefit_start", np.where(in_cohort, benefit_start, np.datetime64("NaT"))),
        pl.Series("intake_date", np.where(has_intake, intake, np.datetime64("NaT"))),
        pl.Series("referral_date", np.where(has_intake, referral, np.datetime64("NaT"))),
        pl.Series("location", np.array(design.locations, dtype=object)[location].astype(str)),
        pl.Series("intake_period", period.astype(np.int16)),
        pl.Series("caseworker_id", cw),
        pl.Series("department", dept_name.tolist(), dtype=pl.String),
        pl.Series("outcome", outcome),
        pl.Series("months_to_work", np.where(outcome, offset, None).tolist(), dtype=pl.Int32),
        pl.Series("followup_window", window.astype(np.int32)),
        pl.Series("employability", e),
        pl.Series("p0", p0),
        *[pl.Series(f"y_{d}", potential[d]) for d in dgp.DEPARTMENTS],
        *[pl.Series(f"effect_{d}", effects[d]) for d in dgp.DEPARTMENTS],
        pl.Series("start_day", start_day),
    )
    caseworkers = roster["caseworker"].to_numpy()
    truth = truth.with_columns(
        pl.when(pl.col("caseworker_id") >= 0)
        .then(
            pl.col("caseworker_id").map_elements(lambda i: caseworkers[i], return_dtype=pl.String)
        )
        .alias("caseworker")
    )
    # cohort-only columns are null outside the cohort
    cohort_cols = [
        "location",
        "intake_period",
        "caseworker",
        "department",
        "intake_date",
        "referral_date",
    ]
    truth = truth.with_columns(
        [pl.when(pl.col("in_cohort")).then(pl.col(c)).alias(c) for c in cohort_cols]
    )
    later_intakes = pl.DataFrame(
        {
            "person": np.flatnonzero(later),
            "intake": intake[later],
            "referral": referral[later],
            "location": location[later],
            "caseworker": caseworkers[cw[later]],
            "department": dept_name[later].astype(str),
        }
    )
    return block, truth, later_intakes


def _quarter(dates: np.ndarray) -> np.ndarray:
    months = dates.astype("datetime64[M]").astype(int)
    return months // 3


def _resident(muni0, muni1, move_month, municipality) -> np.ndarray:
    """Lives in the municipality on the first day of each month (moves happen on day 2 or later)."""
    months = np.arange(N_MONTHS)
    before = (move_month[:, None] < 0) | (months[None, :] <= move_month[:, None])
    return np.where(before, (muni0 == municipality)[:, None], (muni1 == municipality)[:, None])


def _debts(rng, flag, flag_year) -> dict[int, np.ndarray]:
    """Defaulter on 31 December of each year; `flag` holds for `flag_year`, others persist."""
    out = {}
    for year in REGISTER_YEARS["WANBZVW"]:
        persist = np.where(flag, rng.random(flag.size) < 0.8, rng.random(flag.size) < 0.05)
        out[year] = np.where(flag_year == year, flag, persist)
    return out


def _education_years(rng, level, ref_year) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Education per register year. 'unknown' persons are missing from, or coded ---- in, the file
    of their reference year only; in other years they appear as low."""
    unknown = level == "unknown"
    absent = unknown & (rng.random(level.size) < 0.5)
    out = {}
    for year in REGISTER_YEARS["HOOGSTEOPL"]:
        this = ref_year == year
        lvl = np.where(unknown & ~this, "low", level)
        out[year] = (lvl, ~(absent & this))
    return out


# --------------------------------------------------------------------- rest of the municipality
WORKER_STATES = np.array([11, 13, 21, 24, 25, 26, 31, 32, 15, 12, 14], dtype=np.uint8)


def _markov_weights(rng, n, welfare_share=0.0):
    kind = rng.random(n)
    worker = np.array([0.78, 0.06, 0.05, 0.02, 0.0, 0.03, 0.0, 0.04, 0.005, 0.005, 0.01])
    inactive = np.array([0.05, 0.0, 0.05, 0.35, 0.35, 0.0, 0.0, 0.2, 0.0, 0.0, 0.0])
    student = np.array([0.25, 0.0, 0.0, 0.0, 0.0, 0.45, 0.25, 0.05, 0.0, 0.0, 0.0])
    weights = np.where(
        (kind < 0.7)[:, None], worker, np.where((kind < 0.9)[:, None], inactive, student)
    )
    states = np.append(WORKER_STATES, 22).astype(np.uint8)
    weights = np.hstack([weights, np.zeros((n, 1))])
    welfare = rng.random(n) < welfare_share
    weights[welfare] = 0.0
    weights[welfare, 0], weights[welfare, -1], weights[welfare, 7] = 0.2, 0.7, 0.1
    return states, weights


def _background(rng, n, first_index, timeline, municipality, moves, group_names, ref_month=72):
    sex = np.where(rng.random(n) < 0.5, "man", "woman")
    birth_year = rng.integers(1942, 1998, n)
    migration = registers.pick(
        rng, ["dutch"] * 5 + ["moroccan_turkish", "surinamese_antillean", "other", "other"], n
    )
    migration[rng.random(n) < 0.002] = "unknown"
    level = registers.pick(rng, ["low"] * 7 + ["middle"] * 8 + ["high"] * 5, n)
    education = {y: (level, rng.random(n) > 0.05) for y in REGISTER_YEARS["HOOGSTEOPL"]}
    debt_base = rng.random(n) < 0.05
    debts = {
        y: np.where(debt_base, rng.random(n) < 0.85, rng.random(n) < 0.01)
        for y in REGISTER_YEARS["WANBZVW"]
    }
    counts = rng.choice(list(REST_CHRONIC_COUNTS), n, p=list(REST_CHRONIC_COUNTS.values()))
    conditions = registers.condition_groups(
        rng, counts, group_names, {"inflammatory": 0.18, "common_mental": 0.08}
    )
    return Block(
        first_index=first_index,
        rins=registers.rin(first_index + np.arange(n)),
        sex=sex,
        birth_year=birth_year,
        birth_month=rng.integers(1, 13, n),
        migration=migration,
        timeline=timeline,
        municipality=municipality,
        moves=moves,
        education=education,
        debts=debts,
        conditions=conditions,
        household_ref=np.full(n, ref_month),
        single=rng.random(n) < 0.4,
        children=rng.random(n) < 0.35,
    )


def build_rest_of_municipality(seed, published, municipality, first_index, group_names) -> Block:
    """Residents without bijstand in the study window; some had it before, a few start in 2018."""
    rng = stream(seed, "rest")
    n = published["figure1"]["rest_n"]
    states, weights = _markov_weights(rng, n)
    T = markov_timelines(rng, n, states, weights)
    window = slice(month_index(2015, 1), month_index(2018, 1))
    T[:, window][T[:, window] == 22] = 32
    earlier = np.flatnonzero(rng.random(n) < 0.05)
    for i, s in zip(earlier, rng.integers(12, 55, earlier.size), strict=True):
        T[i, s : min(s + 3 + int(rng.integers(0, 24)), month_index(2015, 1))] = 22
    late = rng.choice(n, 300, replace=False)
    T[late, month_index(2018, 2) :] = 22
    ioaw = np.flatnonzero(rng.random(n) < 0.004)
    T[ioaw, month_index(2015, 6) : month_index(2017, 1)] = 23
    home = np.full(n, municipality)
    within = np.where(rng.random(n) < 0.12, rng.integers(0, N_MONTHS, n), -1)
    return _background(
        rng, n, first_index, T, [home, home], [(within, rng.integers(2, 29, n))], group_names
    )


def build_outside_block(seed, start, n, first_index, municipality, group_names) -> Block:
    """People elsewhere: some on bijstand there; in the first block, some who move in later."""
    rng = stream(seed, f"outside-{start}")
    states, weights = _markov_weights(rng, n, welfare_share=0.04)
    # national registers hold about six spells per person (100 million at 17 million persons)
    T = markov_timelines(rng, n, states, weights, switch=OUTSIDE_SWITCH)
    home = registers.pick(rng, registers.OTHER_MUNICIPALITIES, n).astype(str)
    second = home.copy()
    move = np.full(n, -1)
    if start == 0:
        movers = np.arange(min(MOVERS_IN, n))
        T[movers, month_index(2015, 1) : month_index(2016, 1)] = 22
        T[movers, month_index(2016, 1) :] = 11
        move[movers] = month_index(2015, 12)
        second[movers] = municipality
    return _background(
        rng, n, first_index, T, [home, second], [(move, rng.integers(2, 29, n))], group_names
    )


# ------------------------------------------------------------------------------------ writing
def write_block(rng, writers, block: Block, group_codes, provisional: bool) -> None:
    people_frame = registers.gba_person(
        rng, block.rins, block.sex, block.birth_year, block.birth_month, block.migration
    )
    writers["GBAPERSOON2018TABV2.sav"].write(people_frame)
    writers["GBAPERSOON2018TABV1.sav"].write(_older_version(rng, people_frame))
    writers["SECMBUS2018V1.sav"].write(registers.secm_spells(rng, block.rins, block.timeline))
    writers["SECMBUS2017V1.sav"].write(
        registers.secm_spells(rng, block.rins, block.timeline, older_version=True)
    )
    spells, objects = registers.address_spells(
        rng, block.rins, block.first_index, block.municipality, block.moves
    )
    writers["GBAADRESOBJECT2018BUSV1.sav"].write(spells)
    writers["VSLGWB2018TAB03V1.sav"].write(objects)
    writers["GBAHUISHOUDENS2018BUSV1.sav"].write(
        registers.household_spells(
            rng, block.rins, block.household_ref, block.single, block.children
        )
    )
    for name in CBS_FILES:
        if name.startswith("HOOGSTEOPL"):
            level, present = block.education[_year_of(name)]
            writers[name].write(registers.education_rows(rng, block.rins, level, present))
        elif name.startswith("VRLHOOGSTEOPL"):
            level, present = block.education[2016]
            shuffled = rng.permutation(level) if provisional else level[:0]
            rins = block.rins if provisional else block.rins.head(0)
            writers[name].write(
                registers.education_rows(rng, rins, shuffled, np.ones(shuffled.size, bool))
            )
        elif name.startswith("WANBZVW"):
            writers[name].write(registers.presence_rows(block.rins, block.debts[_year_of(name)]))
        elif name.startswith("MEDICIJN"):
            writers[name].write(
                registers.medicine_rows(rng, block.rins, block.conditions, group_codes)
            )


def _year_of(name: str) -> int:
    return int("".join(ch for ch in name.split("TAB")[0] if ch.isdigit()))


def _older_version(rng, frame: pl.DataFrame) -> pl.DataFrame:
    """The superseded GBAPERSOON version: origin not yet known or sex miscoded for some persons."""
    n = frame.height
    lost = pl.Series(rng.random(n) < 0.03)
    flipped = pl.Series(rng.random(n) < 0.01)
    return frame.with_columns(
        pl.when(lost)
        .then(pl.lit("----"))
        .otherwise(pl.col("GBAHERKOMSTGROEPERING"))
        .alias("GBAHERKOMSTGROEPERING"),
        pl.when(flipped)
        .then(pl.when(pl.col("GBAGESLACHT") == "1").then(pl.lit("2")).otherwise(pl.lit("1")))
        .otherwise(pl.col("GBAGESLACHT"))
        .alias("GBAGESLACHT"),
    )


def write_gba_traps(rng, writers, study: Block) -> None:
    """Persons registered under another RINPERSOONS with the same number: link on both keys."""
    idx = rng.choice(study.rins.len(), 50, replace=False)
    frame = registers.gba_person(
        rng,
        study.rins.gather(idx),
        np.full(50, "woman"),
        np.full(50, 1950),
        np.full(50, 1),
        np.full(50, "other"),
    ).with_columns(pl.lit("S").alias("RINPERSOONS"))
    writers["GBAPERSOON2018TABV2.sav"].write(frame)
    writers["GBAPERSOON2018TABV1.sav"].write(frame)


# --------------------------------------------------------------------------------- municipal
def write_municipal(
    seed,
    out: Path,
    study: Block,
    rest: Block,
    truth: pl.DataFrame,
    later_intakes: pl.DataFrame,
    municipality: str,
) -> None:
    rng = stream(seed, "municipal")
    write_benefits(rng, out / "uitkeringen.csv", study, rest, truth, municipality)
    intakes = write_intakes(rng, out / "werkintake.csv", study, truth, later_intakes)
    write_interventions(rng, out / "interventies.csv", intakes, truth, out.parent / "truth")


def _benefit_runs(block: Block, municipality: str, code: int):
    resident = _resident(
        block.municipality[0], block.municipality[1], block.moves[0][0], municipality
    )
    person, start, end, value = runs(((block.timeline == code) & resident).astype(np.uint8))
    keep = value == 1
    return person[keep], start[keep], end[keep]


def write_benefits(
    rng, path, study: Block, rest: Block, truth: pl.DataFrame, municipality: str
) -> None:
    frames = []
    start_day = truth["start_day"].to_numpy()
    ref = truth["reference_month"].to_numpy()
    for block, is_study in ((study, True), (rest, False)):
        for code, regeling in ((22, "PW"), (23, None)):
            person, start, end = _benefit_runs(block, municipality, code)
            day = rng.integers(1, 29, person.size)
            if is_study and code == 22:
                own = start == ref[person]
                day = np.where(own, start_day[person], day)
            ongoing = end == N_MONTHS - 1
            begin = to_datetime64(start, day)
            end_day = rng.integers(1, 29, person.size)
            end_day = np.where(
                end == start, np.maximum(end_day, day), end_day
            )  # never before the start
            finish = to_datetime64(end, end_day)
            # a share of long spells is registered as two adjacent records
            split = (end - start >= 3) & (rng.random(person.size) < 0.05)
            cut = start + 1 + (rng.random(person.size) * np.maximum(end - start - 1, 1)).astype(int)
            names = (
                np.full(person.size, regeling, dtype=object)
                if regeling
                else registers.pick(rng, ["IOAW", "IOAZ", "BBZ"], person.size)
            )
            pieces = [
                (person[~split], begin[~split], finish[~split], ongoing[~split], names[~split]),
                (
                    person[split],
                    begin[split],
                    to_datetime64(cut[split], np.ones(split.sum(), int)) - 1,
                    np.zeros(split.sum(), bool),
                    names[split],
                ),
                (
                    person[split],
                    to_datetime64(cut[split], np.ones(split.sum(), int)),
                    finish[split],
                    ongoing[split],
                    names[split],
                ),
            ]
            for p, b, f, o, r in pieces:
                frames.append(_benefit_frame(rng, block.rins.gather(p), b, f, o, r))
    frame = pl.concat(frames)
    unlinked = _unlinked(rng, frame, 0.015)
    messy = municipal.with_mess(rng, frame, 0.01, unlinked)
    municipal.write_extract(messy, path, MUNICIPAL_FILES["uitkeringen.csv"])


def _benefit_frame(rng, rins, begin, finish, ongoing, regeling) -> pl.DataFrame:
    n = rins.len()
    return pl.DataFrame(
        {
            "RINPERSOONS": np.full(n, "R"),
            "RINPERSOON": rins,
            "REGELING": municipal.messy_case(rng, regeling.astype(str)) if n else np.array([], str),
            "DATUM_AANVANG": municipal.format_dates(rng, begin, np.zeros(n, bool)),
            "DATUM_EINDE": municipal.format_dates(rng, finish, ongoing),
        },
        schema={
            c: pl.String
            for c in ("RINPERSOONS", "RINPERSOON", "REGELING", "DATUM_AANVANG", "DATUM_EINDE")
        },
    )


def _unlinked(rng, frame: pl.DataFrame, share: float) -> pl.DataFrame:
    """Rows of persons CBS could not link: RINPERSOON empty (RINPERSOONS sometimes too)."""
    rows = frame[np.flatnonzero(rng.random(frame.height) < share).tolist()]
    return rows.with_columns(
        pl.lit("").alias("RINPERSOON"),
        pl.Series("RINPERSOONS", np.where(rng.random(rows.height) < 0.5, "R", "")),
    )


def write_intakes(
    rng, path, study: Block, truth: pl.DataFrame, later: pl.DataFrame
) -> pl.DataFrame:
    """Work intakes: the cohort's, traps around the window, later and earlier intakes."""
    design = dgp.Design()
    t = truth.with_row_index("person")
    cohort = t.filter(pl.col("in_cohort"))
    rows = [
        pl.DataFrame(
            {
                "person": cohort["person"],
                "intake": cohort["intake_date"],
                "referral": cohort["referral_date"],
                "location": cohort["location"],
                "caseworker": cohort["caseworker"],
                "department": cohort["department"],
            }
        )
    ]
    # 2015 inflow not in the cohort: late referral, referral elsewhere, no department, no intake
    others = t.filter((pl.col("entry") == "inflow_2015") & ~pl.col("in_cohort"))
    n = others.height
    kind = rng.choice(4, n, p=[0.3, 0.35, 0.15, 0.2])
    start = others["reference_date"].to_numpy().astype("datetime64[D]") + (
        others["start_day"].to_numpy() - 1
    ).astype("timedelta64[D]")
    late_days = np.where(kind == 0, rng.integers(200, 300, n), rng.integers(5, 150, n))
    intake = start + late_days.astype("timedelta64[D]")
    dept = np.where(
        kind == 0,
        registers.pick(rng, list(dgp.DEPARTMENTS), n),
        np.where(kind == 1, registers.pick(rng, ["zorg", "zorg", "other"], n), "none"),
    )
    keep = kind < 3
    codes = np.array(sorted(set(truth["caseworker"].drop_nulls().to_list())), dtype=object)
    rows.append(
        pl.DataFrame(
            {
                "person": others["person"].filter(pl.Series(keep)),
                "intake": intake[keep],
                "referral": np.where(
                    kind[keep] == 2,
                    np.datetime64("NaT"),
                    intake[keep] + rng.integers(0, 15, keep.sum()).astype("timedelta64[D]"),
                ),
                "location": registers.pick(rng, list(design.locations), keep.sum()).astype(str),
                "caseworker": registers.pick(rng, list(codes), keep.sum()).astype(str),
                "department": dept[keep].astype(str),
            }
        )
    )
    # a second intake long after the window for some cohort members
    again = cohort.filter(pl.Series(rng.random(cohort.height) < 0.1))
    rows.append(
        pl.DataFrame(
            {
                "person": again["person"],
                "intake": again["intake_date"].to_numpy()
                + rng.integers(380, 700, again.height).astype("timedelta64[D]"),
                "location": again["location"],
                "caseworker": registers.pick(rng, list(codes), again.height).astype(str),
                "department": registers.pick(rng, list(dgp.DEPARTMENTS), again.height).astype(str),
            }
        ).with_columns((pl.col("intake") + pl.duration(days=7)).alias("referral"))
    )
    # intakes of 2016-2017 inflow (same caseworkers, outside the cohort)
    rows.append(
        later.with_columns(
            pl.Series("location", np.array(design.locations)[later["location"].to_numpy()])
        )
    )
    frame = pl.concat(
        [
            r.select(
                "person", "intake", "referral", "location", "caseworker", "department"
            ).with_columns(
                pl.col("person").cast(pl.Int64), pl.col("intake", "referral").cast(pl.Date)
            )
            for r in rows
        ]
    )
    intakes = frame
    n = frame.height
    out = pl.DataFrame(
        {
            "RINPERSOONS": np.full(n, "R"),
            "RINPERSOON": study.rins.gather(frame["person"].to_numpy()),
            "INTAKEDATUM": municipal.format_dates(
                rng, frame["intake"].to_numpy(), np.zeros(n, bool)
            ),
            "LOCATIE": municipal.messy_case(rng, frame["location"].to_numpy()),
            "WERKCONSULENT": frame["caseworker"].to_numpy().astype(str),
            "AFDELING": municipal.spell_department(rng, frame["department"].to_numpy().astype(str)),
            "VERWIJSDATUM": municipal.format_dates(
                rng, frame["referral"].to_numpy(), frame["referral"].is_null().to_numpy()
            ),
        }
    )
    messy = municipal.with_mess(rng, out, 0.01, _unlinked(rng, out, 0.01))
    municipal.write_extract(messy, path, MUNICIPAL_FILES["werkintake.csv"])
    return intakes


def write_interventions(
    rng, path, intakes: pl.DataFrame, truth: pl.DataFrame, truth_dir: Path
) -> None:
    spellings = municipal.intervention_spellings()
    referred = intakes.filter(
        pl.col("department").is_in(list(dgp.DEPARTMENTS)) & pl.col("referral").is_not_null()
    )
    count = rng.poisson(1.1, referred.height)
    idx = np.repeat(np.arange(referred.height), count)
    depts = referred["department"].to_numpy()[idx]
    category = np.empty(idx.size, dtype=object)
    for dept, cats in municipal.DEPARTMENT_INTERVENTIONS.items():
        members = np.flatnonzero(depts == dept)
        category[members] = registers.pick(rng, cats, members.size)
    category[rng.random(idx.size) < 0.03] = "OVERIG"
    spelling = np.empty(idx.size, dtype=object)
    for cat in np.unique(category):
        options = spellings.filter(pl.col("category") == cat)
        w = options["weight"].to_numpy()
        members = np.flatnonzero(category == cat)
        spelling[members] = options["spelling"].to_numpy()[
            rng.choice(options.height, members.size, p=w / w.sum())
        ]
    begin = referred["referral"].to_numpy()[idx].astype("datetime64[D]") + rng.integers(
        7, 300, idx.size
    ).astype("timedelta64[D]")
    finish = begin + rng.integers(30, 365, idx.size).astype("timedelta64[D]")
    ongoing = rng.random(idx.size) < 0.15
    person = referred["person"].to_numpy()[idx]
    rins = truth["RINPERSOON"].gather(person)
    out = pl.DataFrame(
        {
            "RINPERSOONS": np.full(idx.size, "R"),
            "RINPERSOON": rins,
            "INTERVENTIE": spelling.astype(str),
            "STARTDATUM": municipal.format_dates(rng, begin, np.zeros(idx.size, bool)),
            "EINDDATUM": municipal.format_dates(rng, finish, ongoing),
        }
    )
    messy = municipal.with_mess(rng, out, 0.01, _unlinked(rng, out, 0.01))
    municipal.write_extract(messy, path, MUNICIPAL_FILES["interventies.csv"])
    linked = messy.filter(pl.col("RINPERSOON") != "")
    table = (
        messy.group_by("INTERVENTIE")
        .agg(pl.len().alias("rows"))
        .join(
            spellings.select(pl.col("spelling").alias("INTERVENTIE"), "category"),
            on="INTERVENTIE",
            how="left",
        )
        .rename({"INTERVENTIE": "spelling"})
        .sort("spelling")
    )
    table.write_parquet(truth_dir / "interventions.parquet")
    per_person = (
        linked.join(
            spellings.select(pl.col("spelling").alias("INTERVENTIE"), "category"), on="INTERVENTIE"
        )
        .group_by("RINPERSOON")
        .agg(pl.col("category").unique().sort().alias("intervention_categories"))
    )
    per_person.write_parquet(truth_dir / "_interventions_by_person.parquet")


# ------------------------------------------------------------------------------------ truth
def figure1_truth(study: Block, rest: Block, truth, group_names, municipality, rules) -> dict:
    """Figure 1 from the generated persons: 2016 bijstand recipients vs other residents."""
    year = slice(month_index(2016, 1), month_index(2017, 1))
    out = {}
    frames = []
    for block in (study, rest):
        resident = _resident(
            block.municipality[0], block.municipality[1], block.moves[0][0], municipality
        )
        on_bij = ((block.timeline[:, year] == 22) & resident[:, year]).any(axis=1)
        lives = resident[:, year].any(axis=1)
        frames.append((on_bij, lives, block.conditions))
    for label, pick_bij in (("bijstand", True), ("rest", False)):
        has = np.vstack([c[(b == pick_bij) & lives] for b, lives, c in frames])
        out[label] = {
            "n": int(has.shape[0]),
            "inflammatory": float(has[:, group_names.index("inflammatory")].mean()),
            "common_mental": float(has[:, group_names.index("common_mental")].mean()),
            "three_or_more": float((has.sum(axis=1) >= 3).mean()),
        }
    return out


def persons_cohort_only(columns: list[str]) -> list[str]:
    """Latent columns that only mean something for cohort members."""
    return [c for c in columns if c.startswith(("y_", "effect_")) or c == "p0"]


def write_truth(
    out: Path, truth: pl.DataFrame, published, design, synth_cfg, counts, figure1, rules
) -> dict:
    by_person = pl.read_parquet(out / "_interventions_by_person.parquet")
    (out / "_interventions_by_person.parquet").unlink()
    persons = (
        truth.join(by_person, on="RINPERSOON", how="left")
        .with_columns(
            pl.col("intervention_categories").fill_null(pl.lit([], dtype=pl.List(pl.String)))
        )
        .with_columns(
            [
                pl.when(pl.col("in_cohort")).then(pl.col(c)).alias(c)
                for c in persons_cohort_only(truth.columns)
            ]
        )
        .select(pl.exclude("caseworker_id", "start_day"))
        .sort("RINPERSOON")
    )
    persons.write_parquet(out / "persons.parquet")
    cohort = persons.filter(pl.col("in_cohort"))
    by_dept = {d: int((cohort["department"] == d).sum()) for d in dgp.DEPARTMENTS}
    effects = {d: float(v) for d, v in design.effects.items() if d != "prematching"}
    sample_effects = {
        d: float((cohort[f"y_{d}"].cast(int) - cohort["y_prematching"].cast(int)).mean())
        for d in ("matching", "activering")
    }
    summary = {
        "study_population_n": persons.height,
        "cohort_n": cohort.height,
        "cohort_by_department": by_dept,
        "cohort_started_by_department": {
            d: int(cohort.filter(pl.col("department") == d)["outcome"].sum())
            for d in dgp.DEPARTMENTS
        },
        "study_population_started": int(persons["outcome"].sum()),
        "effects": effects,
        "effects_definition": EFFECTS_DEFINITION,
        "effect_max_age": design.effect_max_age,
        "sample_average_effects": sample_effects,
        "caseworkers": int(cohort["caseworker"].n_unique()),
        "assignment_cells": int(cohort.select("location", "intake_period").n_unique()),
        "figure1_2016": figure1,
        "seed": synth_cfg["seed"],
        "scale": synth_cfg["scale"],
        "cbs_rows": counts,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
