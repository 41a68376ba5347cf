"""Rule `analysis_cohort`: benefit start in the start year and a referral within the window."""

from wwvw.cohort.selection import analysis_cohort
from wwvw.core import logs
from wwvw.core.db import connect_rule

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    cohort_cfg = snakemake.params.cohort  # noqa: F821
    cohort, flow = analysis_cohort(
        con, cohort_cfg["benefit_start_year"], cohort_cfg["referral_window_months"]
    )
    cohort.write_parquet(snakemake.output.cohort)  # noqa: F821
    flow.write_csv(snakemake.output.flow)  # noqa: F821
    log.info("cohort by department: %s", dict(cohort.group_by("department").len().iter_rows()))
