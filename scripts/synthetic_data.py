"""Rule `synthetic_data`: write the synthetic snapshot (CBS files, municipal extracts, truth).

Run by Snakemake, or by hand for debugging:
    python scripts/synthetic_data.py OUT_DIR [--scale S] [--seed N]
"""

import argparse
import json
import resource
import time
from pathlib import Path

import yaml
from wwvw.core import logs
from wwvw.synthetic.generate import generate


def run(out_dir, published_path, conditions_path, cohort, synthetic, municipality, log) -> dict:
    published = yaml.safe_load(Path(published_path).read_text())
    groups = yaml.safe_load(Path(conditions_path).read_text())["groups"]
    started = time.perf_counter()
    summary = generate(Path(out_dir), published, cohort, synthetic, municipality, groups)
    log.info(
        "synthetic snapshot: study population %d, cohort %d %s, %.1f s, peak RSS %.0f MiB",
        summary["study_population_n"],
        summary["cohort_n"],
        json.dumps(summary["cohort_by_department"]),
        time.perf_counter() - started,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return summary


def main_snakemake(snakemake) -> None:
    log = logs.setup(snakemake.log[0])
    run(
        out_dir=Path(snakemake.output.summary).parent.parent,
        published_path=snakemake.input.published,
        conditions_path=snakemake.input.conditions,
        cohort=snakemake.params.cohort,
        synthetic=snakemake.params.synthetic,
        municipality=snakemake.params.municipality,
        log=log,
    )


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20150102)
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.config).read_text())
    synthetic = {**config["synthetic"], "scale": args.scale, "seed": args.seed}
    run(
        args.out_dir,
        "config/published.yaml",
        config["chronic_conditions"],
        config["cohort"],
        synthetic,
        config["municipality"],
        logs.setup(),
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        main_snakemake(snakemake)  # noqa: F821
    else:
        main_cli()
