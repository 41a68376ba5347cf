"""The data stage end to end through Snakemake on the synthetic snapshot, against the truth:
every person-level derived value must equal truth/persons.parquet exactly."""

from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
KEY = ["RINPERSOONS", "RINPERSOON"]
POPULATION_VARIABLES = [
    "sex", "age", "age_group", "education", "work_history", "work_months", "migration",
    "chronic", "chronic_n", "debts", "single", "children", "outcome", "months_to_work",
    "followup_window",
]  # fmt: skip
COHORT_VARIABLES = [
    "department",
    "caseworker",
    "location",
    "benefit_start",
    "referral_date",
    "intake_date",
]


@pytest.fixture(scope="module")
def truth(synthetic_dir):
    return pl.read_parquet(synthetic_dir / "truth" / "persons.parquet")


def differing(truth: pl.DataFrame, derived: pl.DataFrame, variables: list[str]) -> dict[str, int]:
    joined = truth.join(derived, on=KEY, how="full", suffix="_derived", coalesce=True)
    out = {}
    for v in variables:
        same = (
            pl.col(v)
            .cast(pl.String)
            .str.to_lowercase()
            .eq_missing(pl.col(f"{v}_derived").cast(pl.String).str.to_lowercase())
        )
        out[v] = joined.filter(~same).height
    return {v: n for v, n in out.items() if n}


def test_study_population_membership_and_values_equal_truth(results, truth):
    population = pl.read_parquet(results / "cohort" / "population.parquet")
    assert population.height == truth.height
    assert population.select(KEY).sort(KEY).equals(truth.select(KEY).sort(KEY))
    reference = truth.select(*KEY, (pl.col("reference_month") + 2010 * 12).alias("reference_month"))
    assert (
        differing(reference, population.select(*KEY, "reference_month"), ["reference_month"]) == {}
    )
    assert differing(truth, population, POPULATION_VARIABLES) == {}


def test_cohort_membership_and_values_equal_truth(results, truth):
    cohort = pl.read_parquet(results / "cohort" / "cohort.parquet")
    expected = truth.filter(pl.col("in_cohort"))
    assert cohort.select(KEY).sort(KEY).equals(expected.select(KEY).sort(KEY))
    assert differing(expected, cohort, COHORT_VARIABLES + POPULATION_VARIABLES) == {}
    assert cohort["person_id"].is_unique().all()
    assert cohort["cell"].n_unique() == expected.select("location", "intake_period").n_unique()


def test_tables_match_the_study(results, published):
    table1 = pl.read_csv(results / "tables" / "table1.csv")
    total = table1.filter(pl.col("characteristic") == "total").row(0, named=True)
    for characteristic, levels in published["study_population"]["table1"].items():
        for level, (n, started) in levels.items():
            row = table1.filter(
                (pl.col("characteristic") == characteristic) & (pl.col("level") == level)
            )
            assert row.height == 1, (characteristic, level)
            row = row.row(0, named=True)
            assert abs(row["pct"] - 100 * n / published["study_population"]["n"]) <= 1.5
            assert (
                abs(row["pct_started"] - 100 * started / published["study_population"]["n_started"])
                <= 1.5
            )
    assert abs(total["n"] / published["study_population"]["n"] - 1) < 0.01
    table2 = pl.read_csv(results / "tables" / "table2.csv")
    for department, (n, started) in published["cohort"]["table2"].items():
        row = table2.filter(pl.col("department") == department).row(0, named=True)
        assert abs(row["n"] - n) / n < 0.01
        assert abs(row["pct_started"] - 100 * started / n) <= 3


def test_linkage_report_counts_unlinked_rows(results):
    linkage = pl.read_csv(results / "qc" / "linkage.csv")
    assert set(linkage.columns) >= {"source", "rows", "persons", "linked_persons", "unlinked_rows"}
    municipal = linkage.filter(pl.col("source").is_in(["benefits", "intakes", "interventions"]))
    assert (municipal["unlinked_rows"] > 0).all()
    assert linkage.filter(pl.col("source") == "persons")["unlinked_rows"].item() == 0


def test_flow_records_every_step_in_order(results):
    flow = pl.read_csv(results / "cohort" / "flow.csv")
    assert flow["step"].to_list() == [
        "bijstand_in_window",
        "resident",
        "age",
        "benefit_start",
        "referral",
    ]
    assert flow["n"].to_list() == sorted(flow["n"].to_list(), reverse=True)
    assert flow["n"][0] > flow["n"][1]  # the residence filter removes people living elsewhere


def test_no_log_contains_a_person_key(results, truth):
    keys = set(truth["RINPERSOON"].to_list())
    for log in (results / "logs").glob("*.log"):
        text = log.read_text()
        assert not any(token in keys for token in text.replace(",", " ").split()), log.name


def test_restricted_registers_give_the_same_population_covariates_and_prevalence(
    results, config, tmp_path
):
    """The study population, the covariates and the prevalence figure are the same on the
    registers restricted to the local persons as on the national files. The default run copies
    the registers whole (most of its persons are local), so the restriction is forced here."""
    from types import SimpleNamespace

    from wwvw.cohort.characteristics import Rules, characteristics, condition_table
    from wwvw.core.db import connect_rule
    from wwvw.link.local import restrict_registers
    from wwvw.link.population import Window, chronic_prevalence, study_population

    national = {path.stem: str(path) for path in sorted((results / "raw").glob("*.parquet"))}
    benefits = str(results / "clean" / "uitkeringen.parquet")
    restricted = {name: str(tmp_path / f"{name}.parquet") for name in national}
    counts = restrict_registers(
        connect_rule(SimpleNamespace(input={**national, "benefits": benefits}), yearly=()),
        config["municipality"],
        restricted,
        national,
        max_share=float("inf"),  # restrict, whatever the share of local persons
    )
    assert 0 < counts["secm"][1] < counts["secm"][0]  # some persons are not local

    conditions = condition_table(ROOT / config["chronic_conditions"])
    window = Window.from_config(config["cohort"], config["municipality"])

    def derive(files: dict[str, str]):
        con = connect_rule(SimpleNamespace(input={**files, "benefits": benefits}))
        population, flow = study_population(con, window)
        con.register(
            "anchors",
            population.select(*KEY, pl.col("reference_month").cast(pl.Int64).alias("anchor_month")),
        )
        con.register("atc_groups", conditions)
        covariates = characteristics(
            con, Rules.from_config(config["cohort"]), config["migration_groups"]
        )
        prevalence = chronic_prevalence(
            con,
            config["figures"]["prevalence_year"],
            config["municipality"],
            conditions["condition"].unique(maintain_order=True).to_list(),
        )
        return population, flow, covariates.sort(KEY), prevalence

    for on_national, on_restricted in zip(derive(national), derive(restricted), strict=True):
        assert on_restricted.equals(on_national)
