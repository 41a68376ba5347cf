"""Each rule of the data stage's logic on small hand-made frames (DuckDB over registered frames)."""

from datetime import date

import polars as pl
import pytest
from wwvw.cohort.characteristics import Rules, characteristics
from wwvw.cohort.selection import analysis_cohort
from wwvw.core import db
from wwvw.link.population import Window, linkage_report, study_population

JAN_2015 = db.month_of("2015-01-01")
RULES = Rules(
    work_history_months=48,
    outcome_min_months=3,
    followup_months=36,
    followup_end=db.month_of("2017-12-31"),
)
MIGRATION = {
    "dutch": ["6030"],
    "moroccan_turkish": ["5022", "6043"],
    "surinamese_antillean": ["5007"],
}


def secm(*spells):
    """spells: (rin, start YYYYMMDD, end YYYYMMDD or sentinel, code)."""
    return pl.DataFrame(
        [("R", r, s, e, c) for r, s, e, c in spells],
        schema=["RINPERSOONS", "RINPERSOON", "AANVSECM", "EINDSECM", "SECM"],
        orient="row",
    )


def persons(*rows):
    """rows: (rin, sex, birth year, birth month, origin)."""
    return pl.DataFrame(
        [("R", r, s, y, m, o) for r, s, y, m, o in rows],
        schema=[
            "RINPERSOONS",
            "RINPERSOON",
            "GBAGESLACHT",
            "GBAGEBOORTEJAAR",
            "GBAGEBOORTEMAAND",
            "GBAHERKOMSTGROEPERING",
        ],
        orient="row",
    )


def empty(columns):
    return pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in columns})


def registers(secm_frame, anchors, **extra):
    key = ["RINPERSOONS", "RINPERSOON"]
    tables = {
        "secm": secm_frame,
        "anchors": pl.DataFrame(
            [("R", r, m) for r, m in anchors],
            schema=["RINPERSOONS", "RINPERSOON", "anchor_month"],
            orient="row",
        ),
        "persons": persons(*[(r, "1", "1980", "06", "6030") for r, _ in anchors]),
        "education": empty([*key, "OPLNIVSOI2016AGG4HBMETNIRWO"]).with_columns(
            pl.lit(0).alias("year")
        ),
        "debts": empty(key).with_columns(pl.lit(0).alias("year")),
        "medicines": empty([*key, "ATC4"]).with_columns(pl.lit(0).alias("year")),
        "households": empty(
            [*key, "DATUMAANVANGHH", "DATUMEINDEHH", "TYPHH", "PLHH", "AANTALKINDHH"]
        ),
        "atc_groups": pl.DataFrame(
            {"ATC4": ["N06A", "N05B", "C07A"], "condition": ["mental", "mental", "cardio"]}
        ),
    }
    tables.update(extra)
    con = db.connect(tables)
    return characteristics(con, RULES, MIGRATION)


def outcome_of(*spells, anchor=JAN_2015):
    result = registers(secm(*spells), [("000000001", anchor)])
    return result.row(0, named=True)


class TestOutcome:
    def test_three_consecutive_months_count(self):
        row = outcome_of(
            ("000000001", "20150101", "20150331", "22"), ("000000001", "20150401", "20150630", "11")
        )
        assert row["outcome"] and row["months_to_work"] == 3

    def test_two_month_job_does_not_count(self):
        row = outcome_of(
            ("000000001", "20150101", "20150331", "22"),
            ("000000001", "20150401", "20150531", "11"),
            ("000000001", "20150601", "88888888", "22"),
        )
        assert not row["outcome"] and row["months_to_work"] is None

    def test_work_across_spells_and_codes_is_one_run(self):
        row = outcome_of(
            ("000000001", "20150101", "20150331", "22"),
            ("000000001", "20150401", "20150531", "11"),
            ("000000001", "20150601", "20150731", "13"),
        )
        assert row["outcome"] and row["months_to_work"] == 3

    def test_family_work_is_not_paid_work(self):
        row = outcome_of(
            ("000000001", "20150101", "20150331", "22"), ("000000001", "20150401", "20151231", "15")
        )
        assert not row["outcome"]

    def test_first_of_two_jobs_after_a_short_one(self):
        row = outcome_of(
            ("000000001", "20150101", "20150131", "22"),
            ("000000001", "20150201", "20150228", "11"),
            ("000000001", "20150301", "20150531", "22"),
            ("000000001", "20150601", "", "12"),
        )
        assert row["months_to_work"] == 5

    @pytest.mark.parametrize(
        "sentinel", ["", "20501231", "20991231", "88888888", "99991231", "20181231"]
    )
    def test_open_ended_spells_in_every_sentinel(self, sentinel):
        row = outcome_of(
            ("000000001", "20150101", "20150331", "22"), ("000000001", "20150401", sentinel, "14")
        )
        assert row["outcome"] and row["months_to_work"] == 3

    def test_work_must_start_within_the_followup_months(self):
        start = JAN_2015 - 24  # anchor in January 2013: 36 months end in January 2016
        row = outcome_of(
            ("000000001", "20130101", "20160131", "22"),
            ("000000001", "20160201", "", "11"),
            anchor=start,
        )
        assert not row["outcome"] and row["followup_window"] == 36

    def test_work_must_be_observed_for_three_months_by_the_end_of_followup(self):
        row = outcome_of(
            ("000000001", "20150101", "20171031", "22"), ("000000001", "20171101", "", "11")
        )
        assert not row["outcome"]
        row = outcome_of(
            ("000000001", "20150101", "20170930", "22"), ("000000001", "20171001", "", "11")
        )
        assert row["outcome"] and row["months_to_work"] == 33

    def test_work_already_going_at_the_anchor_is_not_a_start(self):
        row = outcome_of(("000000001", "20140101", "", "11"))
        assert not row["outcome"]

    def test_followup_window_shrinks_near_the_end_of_followup(self):
        row = outcome_of(("000000001", "20171201", "", "22"), anchor=db.month_of("2017-12-01"))
        assert row["followup_window"] == 0


class TestCovariates:
    def test_age_in_completed_years_at_the_anchor_month(self):
        frames = {
            "persons": persons(
                ("000000001", "2", "1985", "01", "5022"), ("000000002", "1", "1985", "02", "9999")
            )
        }
        out = registers(secm(), [("000000001", JAN_2015), ("000000002", JAN_2015)], **frames)
        assert out["age"].to_list() == [30, 29]
        assert out["age_group"].to_list() == ["30-45", "18-30"]
        assert out["sex"].to_list() == ["woman", "man"]
        assert out["migration"].to_list() == ["moroccan_turkish", "other"]

    def test_work_history_counts_months_in_the_four_years_before(self):
        spells = secm(
            ("000000001", "20100101", "20101231", "11"),  # outside the window
            ("000000001", "20110101", "20110331", "11"),  # 3 months inside
            ("000000001", "20140601", "20141231", "13"),  # 7 months inside
            ("000000001", "20150101", "", "22"),
        )
        out = registers(spells, [("000000001", JAN_2015)]).row(0, named=True)
        assert out["work_months"] == 10 and out["work_history"] == "up_to_12"

    def test_education_debts_chronic_from_the_right_years(self):
        key = {"RINPERSOONS": "R", "RINPERSOON": "000000001"}
        education = pl.DataFrame(
            [
                {**key, "OPLNIVSOI2016AGG4HBMETNIRWO": "2111", "year": 2015},
                {**key, "OPLNIVSOI2016AGG4HBMETNIRWO": "3111", "year": 2016},
            ]
        )
        debts = pl.DataFrame([{**key, "year": 2015}])  # 31 December 2015: not before a 2015 anchor
        medicines = pl.DataFrame(
            [{**key, "ATC4": a, "year": 2014} for a in ("N06A", "N05B", "C07A", "J01C")]
            + [{**key, "ATC4": "C07A", "year": 2015}]
        )
        out = registers(
            secm(), [("000000001", JAN_2015)], education=education, debts=debts, medicines=medicines
        )
        row = out.row(0, named=True)
        assert row["education"] == "middle" and not row["debts"]
        assert row["chronic_n"] == 2 and row["chronic"] == "2"  # mental (two codes) and cardio

    def test_household_spell_covering_the_anchor_date(self):
        key = {"RINPERSOONS": "R", "RINPERSOON": "000000001"}
        households = pl.DataFrame(
            [
                {
                    **key,
                    "DATUMAANVANGHH": "20100101",
                    "DATUMEINDEHH": "20141231",
                    "TYPHH": " 1",
                    "PLHH": " 2",
                    "AANTALKINDHH": "0",
                },
                {
                    **key,
                    "DATUMAANVANGHH": "20150101",
                    "DATUMEINDEHH": "99991231",
                    "TYPHH": " 6",
                    "PLHH": " 7",
                    "AANTALKINDHH": "2",
                },
            ]
        )
        row = registers(secm(), [("000000001", JAN_2015)], households=households).row(0, named=True)
        assert row["single"] and row["children"]

    def test_child_living_at_home_has_no_children_of_its_own(self):
        key = {"RINPERSOONS": "R", "RINPERSOON": "000000001"}
        households = pl.DataFrame(
            [
                {
                    **key,
                    "DATUMAANVANGHH": "20000101",
                    "DATUMEINDEHH": "",
                    "TYPHH": " 5",
                    "PLHH": " 1",
                    "AANTALKINDHH": "3",
                }
            ]
        )
        row = registers(secm(), [("000000001", JAN_2015)], households=households).row(0, named=True)
        assert not row["single"] and not row["children"]


def benefits(*rows):
    """rows: (rin, regeling, start date, end date or None)."""
    return pl.DataFrame(
        [("R", r, g, s, e, True) for r, g, s, e in rows],
        schema={"RINPERSOONS": pl.String, "RINPERSOON": pl.String, "REGELING": pl.String,
                "DATUM_AANVANG": pl.Date, "DATUM_EINDE": pl.Date, "linked": pl.Boolean},
        orient="row",
    )  # fmt: skip


def intakes(*rows):
    """rows: (rin, intake date, referral date, department, caseworker)."""
    return pl.DataFrame(
        [("R", r, i, v, d, c, "Werkplein Zuid", True) for r, i, v, d, c in rows],
        schema={"RINPERSOONS": pl.String, "RINPERSOON": pl.String, "INTAKEDATUM": pl.Date,
                "VERWIJSDATUM": pl.Date, "department": pl.String, "caseworker": pl.String,
                "location": pl.String, "linked": pl.Boolean},
        orient="row",
    )  # fmt: skip


def cohort_of(benefit_rows, intake_rows):
    rins = {r[0] for r in benefit_rows}
    population = pl.DataFrame({"RINPERSOONS": ["R"] * len(rins), "RINPERSOON": sorted(rins)})
    con = db.connect(
        {
            "benefits": benefits(*benefit_rows),
            "intakes": intakes(*intake_rows),
            "population": population,
        }
    )
    return analysis_cohort(con, 2015, 6)[0]


class TestCohort:
    def test_referral_within_six_months_inclusive(self):
        start = date(2015, 3, 31)
        cohort = cohort_of(
            [("000000001", "PW", start, None), ("000000002", "PW", start, None)],
            [("000000001", date(2015, 9, 1), date(2015, 9, 30), "matching", "A"),  # 30 Sep = 31 Mar + 6 months
             ("000000002", date(2015, 9, 1), date(2015, 10, 1), "matching", "A")],
        )  # fmt: skip
        assert cohort["RINPERSOON"].to_list() == ["000000001"]

    def test_earliest_referral_to_one_of_the_three_departments(self):
        cohort = cohort_of(
            [("000000001", "PW", date(2015, 2, 10), None)],
            [("000000001", date(2015, 2, 20), date(2015, 2, 25), "zorg", "A"),
             ("000000001", date(2015, 3, 20), date(2015, 4, 2), "activering", "B"),
             ("000000001", date(2015, 3, 1), date(2015, 3, 5), "matching", "C"),
             ("000000001", date(2014, 3, 1), date(2014, 3, 5), "prematching", "D")],
        )  # fmt: skip
        assert cohort.row(0, named=True)["department"] == "matching"
        assert cohort.row(0, named=True)["caseworker"] == "C"

    def test_touching_pw_records_are_one_benefit_period(self):
        cohort = cohort_of(
            [("000000001", "PW", date(2014, 5, 10), date(2015, 3, 31)), ("000000001", "PW", date(2015, 4, 1), None),
             ("000000002", "PW", date(2014, 5, 10), date(2015, 3, 15)), ("000000002", "PW", date(2015, 4, 1), None)],
            [("000000001", date(2015, 4, 10), date(2015, 4, 20), "matching", "A"),
             ("000000002", date(2015, 4, 10), date(2015, 4, 20), "matching", "A")],
        )  # fmt: skip
        assert cohort["RINPERSOON"].to_list() == ["000000002"]  # a gap: a new benefit start

    def test_other_schemes_are_not_bijstand_benefit_starts(self):
        cohort = cohort_of(
            [("000000001", "IOAW", date(2015, 2, 1), None)],
            [("000000001", date(2015, 2, 20), date(2015, 2, 25), "matching", "A")],
        )
        assert cohort.height == 0

    def test_intake_period_is_the_calendar_quarter(self):
        cohort = cohort_of(
            [("000000001", "PW", date(2015, 2, 10), None)],
            [("000000001", date(2015, 7, 1), date(2015, 7, 2), "prematching", "A")],
        )
        assert cohort.row(0, named=True)["intake_period"] == "2015Q3"


class TestStudyPopulation:
    def test_bijstand_while_resident_in_the_window(self):
        w = Window(JAN_2015, db.month_of("2017-12-01"), "0599", 18, 65)
        addresses = pl.DataFrame(
            [
                ("R", "000000001", "20000101", "", "W", "1"),  # always in Rotterdam
                ("R", "000000002", "20000101", "20150614", "W", "2"),  # moves out mid-June 2015
                ("R", "000000002", "20150615", "", "W", "3"),
                ("R", "000000003", "20000101", "", "W", "2"),  # bijstand only in 2014
            ],
            schema=["RINPERSOONS", "RINPERSOON", "GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING",
                    "SOORTOBJECTNUMMER", "RINOBJECTNUMMER"],
            orient="row",
        )  # fmt: skip
        municipalities = pl.DataFrame(
            {"SOORTOBJECTNUMMER": ["W"] * 3, "RINOBJECTNUMMER": ["1", "2", "3"],
             "GEM2015": ["0599", "0599", "0363"], "GEM2016": ["0599", "0599", "0363"], "GEM2017": ["0599", "0599", "0363"]}
        )  # fmt: skip
        spells = secm(
            ("000000001", "20150301", "20150331", "22"),
            ("000000002", "20150701", "", "22"),  # bijstand only after the move
            ("000000003", "20140101", "20141231", "22"),
        )
        con = db.connect(
            {"secm": spells, "addresses": addresses, "municipalities": municipalities,
             "persons": persons(*[(f"00000000{i}", "1", "1980", "01", "6030") for i in (1, 2, 3)]),
             "benefits": benefits(("000000002", "PW", date(2015, 6, 1), date(2015, 6, 30)))}
        )  # fmt: skip
        population, flow = study_population(con, w)
        assert population["RINPERSOON"].to_list() == ["000000001", "000000002"]
        # the PW benefit in June 2015 (resident on 1 June) qualifies person 2 from June
        assert population["reference_month"].to_list() == [
            db.month_of("2015-03-01"),
            db.month_of("2015-06-01"),
        ]
        assert flow["n"].to_list() == [2, 2, 2]


def test_linkage_report_counts_rows_persons_and_unlinked_rows():
    """Rows and persons per source; a person absent from GBAPERSOONTAB leaves its rows unlinked,
    a row without RIN (municipal or CBS) is unlinked and no person; keys are compared exactly
    (leading zeros count); a person in two register years is one person; a doubled register key
    does not double a count."""
    persons = pl.DataFrame(
        {"RINPERSOONS": ["R", "R", "R"], "RINPERSOON": ["000000001", "000000002", "000000002"]}
    )
    secm = pl.DataFrame(
        {
            "RINPERSOONS": ["R", "R", "R", "R", "R"],
            "RINPERSOON": ["000000001", "000000001", "000000002", "000000009", "1"],
        }
    )
    benefits = pl.DataFrame(
        {
            "RINPERSOONS": ["R", None, "R"],
            "RINPERSOON": ["000000002", None, "000000002"],
            "linked": [True, False, True],
        }
    )
    debts = pl.DataFrame(  # two register years: a person in both counts once
        {
            "RINPERSOONS": ["R", "R", "R"],
            "RINPERSOON": ["000000001", "000000001", ""],
            "year": [2014, 2015, 2015],
        }
    )
    con = db.connect({"persons": persons, "secm": secm, "benefits": benefits, "debts": debts})
    report = linkage_report(con, {"secm": "secm", "benefits": "benefits", "debts": "debts"})
    assert report.to_dicts() == [
        {"source": "benefits", "rows": 3, "persons": 1, "linked_persons": 1, "unlinked_rows": 1},
        {"source": "debts", "rows": 3, "persons": 1, "linked_persons": 1, "unlinked_rows": 1},
        {"source": "secm", "rows": 5, "persons": 4, "linked_persons": 2, "unlinked_rows": 2},
    ]


def test_duckdb_settings_of_a_rule_come_from_its_resources_and_the_config():
    """memory_limit from the rule's mem_mb (config duckdb.memory_mb), spilling to the configured
    directory, else to the job's tmpdir; the limit is in force in the connection."""
    import os
    from types import SimpleNamespace

    from wwvw.core.db import connect, rule_settings

    resources = SimpleNamespace(mem_mb=1500, tmpdir="/tmp/job")
    job = SimpleNamespace(
        resources=resources, threads=1, config={"duckdb": {"temp_directory": "", "threads": 2}}
    )
    assert rule_settings(job) == {
        "memory_limit_mb": 1500,
        "threads": 2,
        "temp_directory": "/tmp/job",
    }
    job.config["duckdb"]["threads"] = 0
    assert rule_settings(job)["threads"] == os.cpu_count()
    job.config["duckdb"]["temp_directory"] = "/scratch/duckdb"
    assert rule_settings(job)["temp_directory"] == "/scratch/duckdb"
    con = connect(memory_limit_mb=1500, threads=1)
    limit = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit.replace(" ", "") in {"1.3GiB", "1.4GiB", "1.5GB", "1500.0MB", "1.4GB"}, limit


def test_restricted_registers_keep_every_record_of_residents_and_bijstand_recipients(tmp_path):
    """Kept: every record (addresses elsewhere too) of anyone who ever lived at an object in the
    municipality, of anyone with a SECM 22 spell and of anyone with a linked benefit; dropped:
    everyone else. VSLGWBTAB keeps the objects in the municipality in some year; rows sorted."""
    from wwvw.link.local import restrict_registers

    addresses = pl.DataFrame(
        {
            "RINPERSOONS": ["R"] * 5,
            "RINPERSOON": ["000000004", "000000001", "000000001", "000000002", "000000003"],
            "SOORTOBJECTNUMMER": ["A"] * 5,
            "RINOBJECTNUMMER": ["elsewhere", "moved_in", "elsewhere", "elsewhere", "elsewhere"],
        }
    )
    municipalities = pl.DataFrame(
        {
            "SOORTOBJECTNUMMER": ["A", "A"],
            "RINOBJECTNUMMER": ["elsewhere", "moved_in"],
            "GEM2014": ["0363", "0363"],
            "GEM2015": ["0363", " 0599"],
        }
    )
    spells = secm(
        ("000000003", "20100101", "20101231", "22"),
        ("000000003", "20110101", "", "11"),
        ("000000002", "20100101", "", "11"),
        ("000000005", "20100101", "", "11"),
    )
    benefits = pl.DataFrame(
        {
            "RINPERSOONS": ["R", None],
            "RINPERSOON": ["000000004", None],
            "linked": [True, False],
        }
    )
    register = persons(*[(f"{k:09d}", "1", "1980", "06", "6030") for k in range(1, 11)])
    con = db.connect(
        {
            "addresses": addresses,
            "municipalities": municipalities,
            "secm": spells,
            "benefits": benefits,
            "persons": register,
        }
    )
    names = ("addresses", "secm", "municipalities")
    sources = {name: tmp_path / f"{name}_raw.parquet" for name in names}
    for name, frame in {
        "addresses": addresses,
        "secm": spells,
        "municipalities": municipalities,
    }.items():
        frame.write_parquet(sources[name])
    outputs = {name: tmp_path / f"{name}.parquet" for name in names}
    counts = restrict_registers(con, "0599", outputs, sources)

    kept = {name: pl.read_parquet(path) for name, path in outputs.items()}
    assert kept["addresses"].select("RINPERSOON", "RINOBJECTNUMMER").rows() == [
        ("000000004", "elsewhere"),  # a linked benefit
        ("000000001", "moved_in"),  # lived in the municipality in 2015 ...
        ("000000001", "elsewhere"),  # ... so every other address too
        ("000000003", "elsewhere"),  # a SECM 22 spell (never resident)
    ]
    assert kept["secm"]["RINPERSOON"].to_list() == ["000000003", "000000003"]
    assert kept["municipalities"]["RINOBJECTNUMMER"].to_list() == ["moved_in"]
    assert counts == {"addresses": (5, 4), "secm": (4, 2), "municipalities": (2, 1)}


def test_registers_are_copied_whole_when_most_persons_are_local(tmp_path):
    """Three local persons (a SECM 22 spell, two linked benefits) of four in GBAPERSOONTAB:
    restricting would keep most rows, so the files are copied as delivered (the later steps give
    the same results on either)."""
    from wwvw.link.local import restrict_registers

    source = tmp_path / "secm_raw.parquet"
    secm(("000000001", "20100101", "", "22"), ("000000009", "20100101", "", "11")).write_parquet(
        source
    )
    con = db.connect(
        {
            "secm": source,
            "addresses": empty(
                ["RINPERSOONS", "RINPERSOON", "SOORTOBJECTNUMMER", "RINOBJECTNUMMER"]
            ),
            "municipalities": empty(["SOORTOBJECTNUMMER", "RINOBJECTNUMMER", "GEM2015"]),
            "benefits": pl.DataFrame(
                {
                    "RINPERSOONS": ["R", "R"],
                    "RINPERSOON": ["000000002", "000000003"],
                    "linked": [True, True],
                }
            ),
            "persons": persons(*[(f"{k:09d}", "1", "1980", "06", "6030") for k in range(1, 5)]),
        }
    )
    out = tmp_path / "secm.parquet"
    counts = restrict_registers(con, "0599", {"secm": out}, sources={"secm": source})
    assert counts == {"secm": (2, 2)}
    assert out.read_bytes() == source.read_bytes()
    # with no share large enough to copy, the same call restricts
    restricted = restrict_registers(
        con, "0599", {"secm": out}, {"secm": source}, max_share=float("inf")
    )
    assert restricted == {"secm": (2, 1)}
    assert pl.read_parquet(out)["RINPERSOON"].to_list() == ["000000001"]


def test_linkage_report_counts_the_register_itself_without_probing_it():
    """GBAPERSOONTAB as a source (its keys validated unique at ingest): every row with a key is a
    person found in the register; the same counts as probing it would give."""
    persons = pl.DataFrame(
        {"RINPERSOONS": ["R", "R", "R"], "RINPERSOON": ["000000001", "000000002", "000000003"]}
    )
    secm = pl.DataFrame({"RINPERSOONS": ["R", "R"], "RINPERSOON": ["000000001", "000000004"]})
    con = db.connect({"persons": persons, "secm": secm, "register_copy": persons})
    report = linkage_report(con, {"persons": "persons", "secm": "secm", "copy": "register_copy"})
    assert report.to_dicts() == [
        {"source": "copy", "rows": 3, "persons": 3, "linked_persons": 3, "unlinked_rows": 0},
        {"source": "persons", "rows": 3, "persons": 3, "linked_persons": 3, "unlinked_rows": 0},
        {"source": "secm", "rows": 2, "persons": 2, "linked_persons": 1, "unlinked_rows": 1},
    ]
    assert linkage_report(con, {"persons": "persons"})["rows"].to_list() == [3]


def test_chronic_prevalence_splits_residents_by_a_month_of_bijstand_while_resident():
    """Residents in 2016 (an address at an object of the municipality covering the first day of
    a month); a resident is a bijstand recipient only when a bijstand month (SECM 22 or a linked PW
    benefit) falls in a resident month of that year. Conditions from that year's medicines."""
    from wwvw.link.population import chronic_prevalence

    def address(rin, start, end, obj="home"):
        return ("R", rin, "W", obj, start, end)

    addresses = pl.DataFrame(
        [
            address("000000001", "20150101", ""),  # resident all year, SECM 22 in June
            address("000000002", "20160101", "20160630"),  # resident to June, bijstand from July
            address("000000003", "20160315", ""),  # resident from April (moved in after 1 March)
            address("000000004", "20100101", ""),  # resident, PW benefit in the extract
            address("000000005", "20100101", "", obj="elsewhere"),  # never resident
            address("000000006", "20100101", ""),  # resident, no bijstand
        ],
        schema=[
            "RINPERSOONS",
            "RINPERSOON",
            "SOORTOBJECTNUMMER",
            "RINOBJECTNUMMER",
            "GBADATUMAANVANGADRESHOUDING",
            "GBADATUMEINDEADRESHOUDING",
        ],
        orient="row",
    )
    municipalities = pl.DataFrame(
        {
            "SOORTOBJECTNUMMER": ["W", "W"],
            "RINOBJECTNUMMER": ["home", "elsewhere"],
            "GEM2016": ["0599", "0363"],
        }
    )
    spells = secm(
        ("000000001", "20160601", "20160630", "22"),
        ("000000002", "20160701", "", "22"),
        ("000000003", "20160301", "20160331", "22"),  # March only: before the first resident month
        ("000000005", "20160101", "", "22"),
    )
    benefits = pl.DataFrame(
        {
            "RINPERSOONS": ["R"],
            "RINPERSOON": ["000000004"],
            "linked": [True],
            "REGELING": ["PW"],
            "DATUM_AANVANG": [date(2016, 11, 1)],
            "DATUM_EINDE": pl.Series([None], dtype=pl.Date),
        }
    )
    medicines = pl.DataFrame(
        {
            "RINPERSOONS": ["R", "R", "R"],
            "RINPERSOON": ["000000001", "000000003", "000000006"],
            "ATC4": ["N06A", "C07A", "N05B"],
            "year": [2016, 2016, 2015],
        }
    )
    con = db.connect(
        {
            "addresses": addresses,
            "municipalities": municipalities,
            "secm": spells,
            "benefits": benefits,
            "medicines": medicines,
            "atc_groups": pl.DataFrame(
                {"ATC4": ["N06A", "N05B", "C07A"], "condition": ["mental", "mental", "cardio"]}
            ),
        }
    )
    table = chronic_prevalence(con, 2016, "0599", ["mental", "cardio"])
    counts = {(r["group"], r["condition"]): (r["n"], r["n_with"]) for r in table.to_dicts()}
    assert counts == {
        ("bijstand", "mental"): (2, 1),  # persons 1 and 4; person 1's antidepressant
        ("bijstand", "cardio"): (2, 0),
        ("bijstand", "three_or_more"): (2, 0),
        ("rest", "mental"): (3, 0),  # persons 2, 3 and 6; person 6's medicine is of 2015
        ("rest", "cardio"): (3, 1),  # person 3
        ("rest", "three_or_more"): (3, 0),
    }
