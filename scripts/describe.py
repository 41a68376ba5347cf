"""Rule `describe`: Table 1 (study population), Table 2 (cohort), interventions by department."""

import polars as pl
from wwvw.cohort.tables import interventions_by_department, table1, table2, time_to_work
from wwvw.core import logs

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp, out = snakemake.input, snakemake.output  # noqa: F821
    population = pl.read_parquet(inp.population)
    cohort = pl.read_parquet(inp.cohort)
    table1(population).write_csv(out.table1)
    table2(cohort).write_csv(out.table2)
    interventions_by_department(
        cohort,
        pl.read_parquet(inp.interventions),
        snakemake.params.min_participants,  # noqa: F821
    ).write_csv(out.interventions)
    time_to_work(population, by=snakemake.params.time_to_work_by).write_csv(out.time_to_work)  # noqa: F821
    log.info(
        "tables written for %d persons and %d cohort members", population.height, cohort.height
    )
