"""Rules `estimate` (one specification) and `collect_estimates` (all, with the headline rows)."""

import polars as pl
from wwvw import logs
from wwvw.estimation.specifications import (
    Specification,
    headline_specifications,
    mark_headline,
    run_specifications,
)


def estimate_one(cohort_path: str, spec: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    return run_specifications(pl.read_parquet(cohort_path), [spec])


def collect(
    estimate_paths, diagnostic_paths, specs: list[dict], headline_se_type: str = "hetero"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All specifications' rows in specification order, exactly one headline row per treatment."""
    estimates = pl.concat([pl.read_csv(p) for p in estimate_paths], how="vertical_relaxed")
    diagnostics = pl.concat([pl.read_csv(p) for p in diagnostic_paths], how="diagonal_relaxed")
    chosen = headline_specifications([Specification.from_mapping(s) for s in specs])
    return mark_headline(estimates, chosen, headline_se_type), diagnostics


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    out = snakemake.output  # noqa: F821
    if snakemake.rule == "estimate":  # noqa: F821
        spec = snakemake.params.spec  # noqa: F821
        estimates, diagnostics = estimate_one(snakemake.input.cohort, spec)  # noqa: F821
        log.info("specification %s: %d coefficient rows", spec["name"], estimates.height)
    else:
        estimates, diagnostics = collect(
            snakemake.input.estimates,  # noqa: F821
            snakemake.input.diagnostics,  # noqa: F821
            snakemake.params.specs,  # noqa: F821
            snakemake.params.headline_se_type,  # noqa: F821
        )
        headline = estimates.filter(pl.col("headline"))
        for row in headline.iter_rows(named=True):
            log.info(
                "headline %s (%s): %.3f (%.3f, %.3f)",
                row["treatment"],
                row["se_type"],
                row["coef"],
                row["ci_low"],
                row["ci_high"],
            )
    estimates.write_csv(out.estimates, float_precision=10)
    diagnostics.write_csv(out.diagnostics, float_precision=10)
