"""Rule `chronic_prevalence`: Figure 1's shares, bijstand recipients vs the rest of the municipality."""

from wwvw.cohort.characteristics import condition_table
from wwvw.core import logs
from wwvw.core.db import connect_rule
from wwvw.link.population import chronic_prevalence

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    conditions = condition_table(snakemake.input.conditions)  # noqa: F821
    con.register("atc_groups", conditions)
    table = chronic_prevalence(
        con,
        snakemake.params.year,  # noqa: F821
        snakemake.params.municipality,  # noqa: F821
        conditions["condition"].unique(maintain_order=True).to_list(),
    )
    table.write_csv(snakemake.output[0])  # noqa: F821
    log.info(
        "prevalence for %d groups and %d conditions",
        table["group"].n_unique(),
        table["condition"].n_unique(),
    )
