"""Names of what leaves the workflow, as plain data for the rule files (cheap to import):
the released tables (export name -> source under results/<snapshot>/), the validity tables,
and the figures with the safe tables each is drawn from."""

RELEASED_TABLES = {
    "tables/table1.csv": "tables/table1.csv",
    "tables/table2.csv": "tables/table2.csv",
    "tables/interventions_by_department.csv": "tables/interventions_by_department.csv",
    "tables/time_to_work.csv": "tables/time_to_work.csv",
    "tables/chronic_prevalence.csv": "tables/chronic_prevalence.csv",
    "tables/leniency.csv": "tables/leniency.csv",
    "cohort/flow.csv": "cohort/flow.csv",
    "qc/linkage.csv": "qc/linkage.csv",
    # the harmonisation per category and method, with persons (the spellings stay inside)
    "qc/interventions.csv": "qc/interventions_summary.csv",
    "estimates/estimates.csv": "estimates/estimates.csv",
    "estimates/diagnostics.csv": "estimates/diagnostics.csv",
}
# Released tables checked in a job of their own: the linkage report counts the national registers
# (the longest side job at national scale); the figures, drawn from the other tables, need not wait.
LINKAGE_TABLES = {"qc/linkage.csv": RELEASED_TABLES["qc/linkage.csv"]}
COHORT_TABLES = {
    name: source for name, source in RELEASED_TABLES.items() if name not in LINKAGE_TABLES
}
# the design checks' tables (rules validity_*), released through one disclosure job
VALIDITY_TABLES = {
    f"validity/{name}.csv": f"validity/{name}.csv"
    for name in (
        "balance",
        "permutation",
        "monotonicity",
        "exclusion",
        "multi_treatment",
        "compliers",
        "heterogeneity",
        "placebo",
    )
}

# the figures in the order of the report and the booklet (Figure 1 prevalence, Figure 2 time to
# work): their numbers everywhere are their places here
FIGURE_SOURCES = {
    "prevalence": ("tables/chronic_prevalence.csv",),
    "time_to_work": ("tables/time_to_work.csv",),
    "interventions": ("tables/interventions_by_department.csv",),
    "leniency": ("tables/leniency.csv",),
    "estimates": ("estimates/estimates.csv",),
    "subgroups": ("estimates/estimates.csv", "validity/heterogeneity.csv"),
}
FIGURES = tuple(FIGURE_SOURCES)
FIGURE_NUMBERS = {name: number for number, name in enumerate(FIGURES, start=1)}
FIGURE_FORMATS = ("png", "svg", "html")
EXPORTED_FIGURE_FORMATS = ("png", "svg")
"""The HTML figures carry the Vega JavaScript libraries, whose minified source holds nine-digit
constants that the RIN scan cannot tell from a person key: they stay in results/<snapshot>/figures/
for use inside; the report embeds the checked SVGs instead."""


def safe_tables(results: str) -> dict[str, str]:
    """Export name -> safe (disclosure-checked) copy under results/<snapshot>/safe/."""
    return {name: f"{results}/safe/{name}" for name in [*RELEASED_TABLES, *VALIDITY_TABLES]}


def safe_checks(results: str) -> list[str]:
    """The output_check rows of every safe table (one file per disclosure job)."""
    return [f"{results}/safe/checks/{job}.csv" for job in ("tables", "linkage", "validity")]


def all_figure_sources() -> dict[str, list[str]]:
    """Figure -> export names of the safe tables it is drawn from."""
    return {name: list(sources) for name, sources in FIGURE_SOURCES.items()}


def exported_files(results: str) -> list[str]:
    """Names of the export bundle's files besides output_check.csv: the safe tables, the figures
    in their exported formats and the report."""
    figures = [f"figures/{name}.{ext}" for name in FIGURES for ext in EXPORTED_FIGURE_FORMATS]
    return [*safe_tables(results), *figures, "report.html"]
