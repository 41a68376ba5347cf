# Wat werkt voor wie: which re-integration programme works, for whom.
# The whole pipeline on one screen; each stage lives in workflow/rules/<stage>.smk.
import sys

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


# --config municipality=0363 reaches the config as the number 363: take the code as typed (a
# municipality code is four characters, and 363 or 599 typed without the zero stay refused)
for _argument in sys.argv:
    if _argument.startswith("municipality=") and isinstance(
        config["municipality"], int
    ):
        config["municipality"] = _argument.partition("=")[2].strip("'\"")


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
