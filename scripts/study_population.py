"""Rule `study_population`: residents with a month of bijstand in the window, reference month, flow."""

from wwvw.core import logs
from wwvw.core.db import connect_rule
from wwvw.link.population import Window, study_population

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    window = Window.from_config(snakemake.params.cohort, snakemake.params.municipality)  # noqa: F821
    population, flow = study_population(con, window)
    population.write_parquet(snakemake.output.population)  # noqa: F821
    flow.write_csv(snakemake.output.flow)  # noqa: F821
    for row in flow.iter_rows(named=True):
        log.info("%s: %d", row["step"], row["n"])
