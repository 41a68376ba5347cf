# Is the leniency design credible, and what works for whom: balance, monotonicity, exclusion,
# compliers, subgroup effects and placebos on the cohort; the Monte Carlo validation of the
# estimators (target `monte_carlo`, not part of the default run).

from wwvw.release.outputs import VALIDITY_TABLES  # noqa: E402

VALIDITY = config["validity"]
VALIDITY_DIR = f"{RESULTS}/validity"
# the checks use the headline specification's sample (common.smk)
VALIDITY_SAMPLE = HEADLINE_SAMPLE


rule validity_balance:
    """Random assignment: balance table, joint tests, within-cell permutation test of caseworkers."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("validity_balance.py"),
    output:
        balance=f"{VALIDITY_DIR}/balance.csv",
        permutation=f"{VALIDITY_DIR}/permutation.csv",
    log:
        log_path("validity_balance"),
    benchmark:
        benchmark_path("validity_balance")
    conda:
        "../../envs/pipeline.yaml"
    params:
        sample=VALIDITY_SAMPLE,
        draws=VALIDITY["permutation_draws"],
        seed=VALIDITY["seed"],
    script:
        "../../scripts/validity_balance.py"


rule validity_monotonicity:
    """Monotonicity: first stages within every subgroup, reverse-sample test; complier profiles."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("validity_monotonicity.py"),
    output:
        monotonicity=f"{VALIDITY_DIR}/monotonicity.csv",
        compliers=f"{VALIDITY_DIR}/compliers.csv",
    log:
        log_path("validity_monotonicity"),
    benchmark:
        benchmark_path("validity_monotonicity")
    conda:
        "../../envs/pipeline.yaml"
    params:
        sample=VALIDITY_SAMPLE,
        subgroups=VALIDITY["subgroups"],
        min_size=VALIDITY["min_subgroup_size"],
        quantiles=VALIDITY["complier_quantiles"],
    script:
        "../../scripts/validity_monotonicity.py"


rule validity_exclusion:
    """Exclusion and monotonicity: Frandsen-Lefgren-Leslie test, Bhuller-Sigstad checks."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("validity_exclusion.py"),
    output:
        exclusion=f"{VALIDITY_DIR}/exclusion.csv",
        multi_treatment=f"{VALIDITY_DIR}/multi_treatment.csv",
    log:
        log_path("validity_exclusion"),
    benchmark:
        benchmark_path("validity_exclusion")
    conda:
        "../../envs/pipeline.yaml"
    params:
        sample=VALIDITY_SAMPLE,
        subgroups=VALIDITY["subgroups"],
        min_size=VALIDITY["min_subgroup_size"],
        degree=VALIDITY["fll_degree"],
        seed=VALIDITY["seed"],
    script:
        "../../scripts/validity_exclusion.py"


rule validity_heterogeneity:
    """What works for whom: IV effects by subgroup, equality tests, Romano-Wolf p-values."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        estimates=f"{RESULTS}/estimates/estimates.csv",
        code=code("validity_heterogeneity.py"),
    output:
        f"{VALIDITY_DIR}/heterogeneity.csv",
    log:
        log_path("validity_heterogeneity"),
    benchmark:
        benchmark_path("validity_heterogeneity")
    conda:
        "../../envs/pipeline.yaml"
    params:
        sample=VALIDITY_SAMPLE,
        specification=HEADLINE_SPECIFICATION["name"],
        subgroups=VALIDITY["subgroups"],
        min_size=VALIDITY["min_subgroup_size"],
        estimators=VALIDITY["heterogeneity_estimators"],
        min_caseload=VALIDITY["min_subgroup_caseload"],
        replications=VALIDITY["bootstrap_replications"],
        seed=VALIDITY["seed"],
        se_type=VALIDITY["heterogeneity_se_type"],
    script:
        "../../scripts/validity_heterogeneity.py"


rule validity_placebo:
    """Placebo: IV effects on outcomes fixed before the intake (previous work) must be zero."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("validity_placebo.py"),
    output:
        f"{VALIDITY_DIR}/placebo.csv",
    log:
        log_path("validity_placebo"),
    benchmark:
        benchmark_path("validity_placebo")
    conda:
        "../../envs/pipeline.yaml"
    params:
        sample=VALIDITY_SAMPLE,
        outcomes=VALIDITY["placebo_outcomes"],
        estimators=["ols", "2sls", "ujive"],
    script:
        "../../scripts/validity_placebo.py"


rule monte_carlo:
    """Monte Carlo: bias, RMSE, coverage of every estimator and interval on the planted design."""
    input:
        code=code("monte_carlo.py"),
    output:
        summary="results/monte_carlo/summary.csv",
        draws="results/monte_carlo/draws.parquet",
    log:
        "results/monte_carlo/logs/monte_carlo.log",
    benchmark:
        "results/monte_carlo/benchmarks/monte_carlo.tsv"
    conda:
        "../../envs/pipeline.yaml"
    threads: 2
    params:
        designs=config["monte_carlo"]["designs"],
        replications=config["monte_carlo"]["replications"],
        seed=config["monte_carlo"]["seed"],
        spec=VALIDITY_SAMPLE,
    script:
        "../../scripts/monte_carlo.py"


register_targets(
    "validity", [f"{RESULTS}/{source}" for source in VALIDITY_TABLES.values()]
)
