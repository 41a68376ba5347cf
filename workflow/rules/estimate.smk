# Leniency estimation: every specification of config/specifications.yaml is a target of its own.


rule estimate:
    """One specification: OLS, first stages, reduced form, 2SLS/UJIVE/JIVE1, weak-IV diagnostics."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("estimate.py"),
    output:
        estimates=f"{RESULTS}/estimates/by_spec/{{spec}}.csv",
        diagnostics=f"{RESULTS}/estimates/by_spec/{{spec}}_diagnostics.csv",
    log:
        log_path("estimate", "_{spec}"),
    benchmark:
        benchmark_path("estimate", "_{spec}")
    wildcard_constraints:
        spec="|".join(SPECIFICATIONS),
    conda:
        "../../envs/pipeline.yaml"
    params:
        spec=lambda wc: SPECIFICATIONS[wc.spec],
    script:
        "../../scripts/estimate.py"


rule collect_estimates:
    """All specifications in estimates.csv and diagnostics.csv, one headline row per treatment."""
    input:
        estimates=expand(
            f"{RESULTS}/estimates/by_spec/{{spec}}.csv", spec=SPECIFICATIONS
        ),
        diagnostics=expand(
            f"{RESULTS}/estimates/by_spec/{{spec}}_diagnostics.csv",
            spec=SPECIFICATIONS,
        ),
        code=code("collect_estimates.py"),
    output:
        estimates=f"{RESULTS}/estimates/estimates.csv",
        diagnostics=f"{RESULTS}/estimates/diagnostics.csv",
    log:
        log_path("collect_estimates"),
    benchmark:
        benchmark_path("collect_estimates")
    conda:
        "../../envs/pipeline.yaml"
    params:
        specs=list(SPECIFICATIONS.values()),
        headline_se_type=config["estimation"]["headline_se_type"],
    script:
        "../../scripts/collect_estimates.py"


register_targets(
    "estimation",
    [f"{RESULTS}/estimates/estimates.csv", f"{RESULTS}/estimates/diagnostics.csv"],
)
