# Linkage on (RINPERSOONS, RINPERSOON) in DuckDB: the linkage report, the registers restricted to
# the study's persons, the study population, the analysis cohort, and covariates and outcomes at
# the anchor date. Only the linkage report and the restriction read the national registers.
from wwvw.cohort.characteristics import RULES_KEYS  # noqa: E402
from wwvw.cohort.selection import COHORT_KEYS as SELECTION_KEYS  # noqa: E402
from wwvw.link.population import WINDOW_KEYS  # noqa: E402

PERSON_REGISTERS = (
    "persons",
    "secm",
    "households",
    "addresses",
    "education",
    "debts",
    "medicines",
)


rule linkage_report:
    """Rows, persons, linked persons and unlinked rows per source (keys validated at ingest)."""
    input:
        **raw_tables("persons", "secm", "households", "addresses", "municipalities"),
        **raw_tables("education", "debts", "medicines"),
        benefits=clean("benefits"),
        intakes=clean("intakes"),
        interventions=clean("interventions"),
        code=code("linkage_report.py"),
    output:
        f"{RESULTS}/qc/linkage.csv",
    log:
        log_path("linkage_report"),
    benchmark:
        benchmark_path("linkage_report")
    priority: LONGEST_SIDE_JOB_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        niceness=SIDE_JOB_NICENESS,
    script:
        "../../scripts/linkage_report.py"


rule local_registers:
    """The person-level registers restricted to residents and bijstand recipients, one pass each."""
    input:
        **raw_tables(*PERSON_REGISTERS, "municipalities"),
        benefits=clean("benefits"),
        code=code("local_registers.py"),
    output:
        **restricted_tables(*PERSON_REGISTERS, "municipalities"),
    log:
        log_path("local_registers"),
    benchmark:
        benchmark_path("local_registers")
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        municipality=config["municipality"],
    script:
        "../../scripts/local_registers.py"


rule study_population:
    """Residents with a month of bijstand in the study window: reference month, age, flow."""
    input:
        **restricted_tables("secm", "persons", "addresses", "municipalities"),
        benefits=clean("benefits"),
        code=code("study_population.py"),
    output:
        population=f"{RESULTS}/linked/study_population.parquet",
        flow=f"{RESULTS}/linked/population_flow.csv",
    log:
        log_path("study_population"),
    benchmark:
        benchmark_path("study_population")
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        cohort=config_keys("cohort", WINDOW_KEYS),
        municipality=config["municipality"],
    script:
        "../../scripts/study_population.py"


rule analysis_cohort:
    """PW benefit start in the start year and the first referral within the window after it."""
    input:
        population=f"{RESULTS}/linked/study_population.parquet",
        benefits=clean("benefits"),
        intakes=clean("intakes"),
        code=code("analysis_cohort.py"),
    output:
        cohort=f"{RESULTS}/linked/cohort_referrals.parquet",
        flow=f"{RESULTS}/linked/cohort_flow.csv",
    log:
        log_path("analysis_cohort"),
    benchmark:
        benchmark_path("analysis_cohort")
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        cohort=config_keys("cohort", SELECTION_KEYS),
    script:
        "../../scripts/analysis_cohort.py"


rule characteristics:
    """Covariates at the anchor date and the work outcome after it (population or cohort)."""
    input:
        **restricted_tables(
            "persons", "secm", "households", "education", "debts", "medicines"
        ),
        anchors=lambda wc: {
            "population": f"{RESULTS}/linked/study_population.parquet",
            "cohort": f"{RESULTS}/linked/cohort_referrals.parquet",
        }[wc.anchor],
        conditions=config["chronic_conditions"],
        code=code("characteristics.py"),
    output:
        f"{RESULTS}/linked/characteristics_{{anchor}}.parquet",
    log:
        log_path("characteristics", "_{anchor}"),
    benchmark:
        benchmark_path("characteristics", "_{anchor}")
    wildcard_constraints:
        anchor="population|cohort",
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        cohort=config_keys("cohort", RULES_KEYS),
        migration_groups=config["migration_groups"],
    script:
        "../../scripts/characteristics.py"
