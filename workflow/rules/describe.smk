# Descriptive tables of the study (aggregates; disclosure control happens at export).


rule describe:
    """Table 1 (study population), Table 2 (cohort), intervention categories by department."""
    input:
        population=f"{RESULTS}/cohort/population.parquet",
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        interventions=f"{RESULTS}/clean/interventions_harmonised.parquet",
    output:
        table1=f"{RESULTS}/tables/table1.csv",
        table2=f"{RESULTS}/tables/table2.csv",
        interventions=f"{RESULTS}/tables/interventions_by_department.csv",
    log:
        log_path("describe"),
    benchmark:
        benchmark_path("describe")
    conda:
        "../../envs/pipeline.yaml"
    params:
        min_participants=config["interventions"]["min_participants"],
    script:
        "../../scripts/describe_tables.py"
