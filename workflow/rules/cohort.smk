# The person-level analysis files and the flow of persons through every step.


rule assemble_cohort:
    """Study population and analysis cohort with covariates and outcome; cohort/flow.csv."""
    input:
        population=f"{RESULTS}/linked/study_population.parquet",
        population_characteristics=f"{RESULTS}/linked/characteristics_population.parquet",
        referrals=f"{RESULTS}/linked/cohort_referrals.parquet",
        cohort_characteristics=f"{RESULTS}/linked/characteristics_cohort.parquet",
        population_flow=f"{RESULTS}/linked/population_flow.csv",
        cohort_flow=f"{RESULTS}/linked/cohort_flow.csv",
        code=code("assemble_cohort.py"),
    output:
        population=f"{RESULTS}/cohort/population.parquet",
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        flow=f"{RESULTS}/cohort/flow.csv",
    log:
        log_path("assemble_cohort"),
    benchmark:
        benchmark_path("assemble_cohort")
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    script:
        "../../scripts/assemble_cohort.py"
