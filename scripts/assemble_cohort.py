"""Rule `assemble_cohort`: the study population and the analysis cohort with their characteristics,
and the flow of persons through every step."""

import polars as pl
from wwvw.core import logs

KEY = ["RINPERSOONS", "RINPERSOON"]


def assemble_population(population: pl.DataFrame, characteristics: pl.DataFrame) -> pl.DataFrame:
    return population.select(*KEY, "reference_month").join(
        characteristics.drop("anchor_month"), on=KEY, how="left", validate="1:1"
    )


def assemble_cohort(referrals: pl.DataFrame, characteristics: pl.DataFrame) -> pl.DataFrame:
    """One row per cohort member, with the person id, the assignment cell and the covariates."""
    cohort = referrals.join(characteristics, on=KEY, how="left", validate="1:1")
    return cohort.with_columns(
        (pl.col("RINPERSOONS") + pl.col("RINPERSOON")).alias("person_id"),
        (pl.col("location") + "|" + pl.col("intake_period")).alias("cell"),
    ).sort(KEY)


def flow_table(*flows: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(flows).select("step", "description", "n")


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp = snakemake.input  # noqa: F821
    population = assemble_population(
        pl.read_parquet(inp.population), pl.read_parquet(inp.population_characteristics)
    )
    cohort = assemble_cohort(
        pl.read_parquet(inp.referrals), pl.read_parquet(inp.cohort_characteristics)
    )
    population.write_parquet(snakemake.output.population)  # noqa: F821
    cohort.write_parquet(snakemake.output.cohort)  # noqa: F821
    flow = flow_table(pl.read_csv(inp.population_flow), pl.read_csv(inp.cohort_flow))
    flow.write_csv(snakemake.output.flow)  # noqa: F821
    for row in flow.iter_rows(named=True):
        log.info("%s: %d", row["step"], row["n"])
