# Readers: each CBS table once to Parquet (chosen version), each municipal extract cleaned,
# the free-text interventions harmonised.

# The national registers by size, largest first: their conversions start first, so that the
# longest (SECMBUS, six spells a person) does not end the stage alone on one core. Snakemake's
# default scheduler orders ready jobs by priority only, not by input size.
LARGEST_CBS_TABLES = ("secm", "households", "addresses", "persons", "municipalities")


rule ingest_cbs:
    """Convert the chosen version of one CBS table to Parquet (all strings), validated and screened."""
    input:
        lambda wc: f"{DATA_DIR}/cbs/{chosen_cbs_files()[wc.table]}",
        code=code("ingest_cbs.py"),
    output:
        parquet=raw("{table}"),
        report=f"{RESULTS}/qc/validation_{{table}}.csv",
    log:
        log_path("ingest_cbs", "_{table}"),
    benchmark:
        benchmark_path("ingest_cbs", "_{table}")
    wildcard_constraints:
        table="|".join(CBS_TABLES),
    priority:
        lambda wc: (
            len(LARGEST_CBS_TABLES) - LARGEST_CBS_TABLES.index(wc.table)
            if wc.table in LARGEST_CBS_TABLES
            else 0
        )
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=DUCKDB_MEMORY_MB,
    params:
        columns=lambda wc: list(CBS_TABLES[wc.table].columns),
        chunk_rows=1_000_000,
        sav_reader=config["cbs"]["sav_reader"],
        year=lambda wc: CBS_TABLES[wc.table].year,
    script:
        "../../scripts/ingest_cbs.py"


rule clean_municipal:
    """Clean one municipal extract (encoding, duplicates, missing, dates), screened and validated."""
    input:
        f"{DATA_DIR}/municipal/{{extract}}.csv",
        code=code("clean_municipal.py"),
    output:
        clean=f"{RESULTS}/clean/{{extract}}.parquet",
        report=f"{RESULTS}/qc/cleaning_{{extract}}.csv",
        validation=f"{RESULTS}/qc/validation_{{extract}}.csv",
    log:
        log_path("clean_municipal", "_{extract}"),
    benchmark:
        benchmark_path("clean_municipal", "_{extract}")
    wildcard_constraints:
        extract="|".join(MUNICIPAL.values()),
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    params:
        department_spellings=config["departments"],
    script:
        "../../scripts/clean_municipal.py"


rule harmonise_interventions:
    """Map every free-text intervention spelling to the reference categories (exact, then fuzzy)."""
    input:
        interventions=clean("interventions"),
        mapping=config["interventions"]["mapping"],
        code=code("harmonise_interventions.py"),
    output:
        interventions=f"{RESULTS}/clean/interventions_harmonised.parquet",
        qc=f"{RESULTS}/qc/interventions.csv",
        summary=f"{RESULTS}/qc/interventions_summary.csv",
    log:
        log_path("harmonise_interventions"),
    benchmark:
        benchmark_path("harmonise_interventions")
    priority: COHORT_PATH_PRIORITY
    conda:
        "../../envs/pipeline.yaml"
    params:
        min_score=config["interventions"]["fuzzy_min_score"],
        code_prefix_pattern=lambda wc: config["interventions"]["code_prefix_pattern"],
    script:
        "../../scripts/harmonise_interventions.py"


register_targets(
    "ingest",
    [
        f"{RESULTS}/qc/validation_{name}.csv"
        for name in [*CBS_TABLES, *MUNICIPAL.values()]
    ],
)
