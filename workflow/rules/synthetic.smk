# The synthetic snapshot: real layout, published marginals, planted causal effect.
# Upstream of nothing but the readers; real data replaces it through config data_dir.
from wwvw.synthetic.people import COHORT_KEYS  # noqa: E402


rule synthetic_data:
    """Generate the synthetic snapshot (CBS files, municipal extracts, truth/) in resources/synthetic."""
    input:
        published="config/published.yaml",
        conditions=config["chronic_conditions"],
        code=code("synthetic_data.py"),
    output:
        files=[f for f in synthetic_outputs() if not f.endswith("summary.json")],
        summary=f"{SYNTHETIC_DIR}/truth/summary.json",
    log:
        "results/logs/synthetic_data.log",
    benchmark:
        "results/benchmarks/synthetic_data.tsv"
    conda:
        "../../envs/pipeline.yaml"
    resources:
        mem_mb=2000,
    params:
        cohort=config_keys("cohort", COHORT_KEYS),
        synthetic=config["synthetic"],
        municipality=config["municipality"],
    script:
        "../../scripts/synthetic_data.py"
