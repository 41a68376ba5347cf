# Descriptive tables of the study (aggregates; disclosure control happens at export).


rule describe:
    """Table 1 (study population), Table 2 (cohort), intervention categories by department."""
    input:
        population=f"{RESULTS}/cohort/population.parquet",
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        interventions=f"{RESULTS}/clean/interventions_harmonised.parquet",
        code=code("describe.py"),
    output:
        table1=f"{RESULTS}/tables/table1.csv",
        table2=f"{RESULTS}/tables/table2.csv",
        interventions=f"{RESULTS}/tables/interventions_by_department.csv",
        time_to_work=f"{RESULTS}/tables/time_to_work.csv",
    log:
        log_path("describe"),
    benchmark:
        benchmark_path("describe")
    conda:
        "../../envs/pipeline.yaml"
    params:
        min_participants=config["interventions"]["min_participants"],
        time_to_work_by="chronic",
    script:
        "../../scripts/describe.py"


rule chronic_prevalence:
    """Figure 1's numbers: chronic conditions of bijstand recipients vs the rest of the municipality."""
    input:
        **restricted_tables("addresses", "municipalities", "secm", "medicines"),
        benefits=clean("benefits"),
        conditions=config["chronic_conditions"],
        code=code("chronic_prevalence.py"),
    output:
        f"{RESULTS}/tables/chronic_prevalence.csv",
    log:
        log_path("chronic_prevalence"),
    benchmark:
        benchmark_path("chronic_prevalence")
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        year=config["figures"]["prevalence_year"],
        municipality=config["municipality"],
    script:
        "../../scripts/chronic_prevalence.py"


register_targets(
    "data",
    [
        f"{RESULTS}/qc/linkage.csv",
        f"{RESULTS}/qc/interventions.csv",
        f"{RESULTS}/cohort/flow.csv",
        f"{RESULTS}/cohort/cohort.parquet",
        f"{RESULTS}/tables/table1.csv",
        f"{RESULTS}/tables/table2.csv",
        f"{RESULTS}/tables/interventions_by_department.csv",
        f"{RESULTS}/tables/time_to_work.csv",
        f"{RESULTS}/tables/chronic_prevalence.csv",
    ],
)
