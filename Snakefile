# Wat werkt voor wie: which re-integration programme works, for whom.
# The whole pipeline on one screen; each stage lives in workflow/rules/<stage>.smk.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


# Image of the locked environment for --sdm apptainer; build it from envs/Containerfile
# (podman build -f envs/Containerfile -t ghcr.io/wat-werkt-voor-wie/pipeline:0.1.0 .)
# or envs/apptainer.def. The tag is the project version in pyproject.toml.
container: "docker://ghcr.io/wat-werkt-voor-wie/pipeline:0.1.0"


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/link.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/describe.smk"
include: "workflow/rules/estimate.smk"
include: "workflow/rules/validity.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/export.smk"


rule all:
    """Default target: every result of the snapshot (and the synthetic data it needs)."""
    input:
        default_targets(),
