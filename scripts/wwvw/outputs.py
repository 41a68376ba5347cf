"""Names of what leaves the workflow, as plain data for the rule files (cheap to import):
the released tables (export name -> source under results/<snapshot>/), the validity tables
taken when the validity stage exists, and the figures with the safe tables each is drawn from."""

RELEASED_TABLES = {
    "tables/table1.csv": "tables/table1.csv",
    "tables/table2.csv": "tables/table2.csv",
    "tables/interventions_by_department.csv": "tables/interventions_by_department.csv",
    "tables/time_to_work.csv": "tables/time_to_work.csv",
    "tables/chronic_prevalence.csv": "tables/chronic_prevalence.csv",
    "tables/leniency.csv": "tables/leniency.csv",
    "cohort/flow.csv": "cohort/flow.csv",
    "qc/linkage.csv": "qc/linkage.csv",
    "qc/interventions.csv": "qc/interventions.csv",
    "estimates/estimates.csv": "estimates/estimates.csv",
    "estimates/diagnostics.csv": "estimates/diagnostics.csv",
}
# Released tables checked in a job of their own: the linkage report counts the national registers
# (the longest side job at national scale); the figures, drawn from the other tables, need not wait.
LINKAGE_TABLES = {"qc/linkage.csv": RELEASED_TABLES["qc/linkage.csv"]}
COHORT_TABLES = {
    name: source for name, source in RELEASED_TABLES.items() if name not in LINKAGE_TABLES
}
VALIDITY_TABLES = ("balance", "monotonicity", "compliers", "heterogeneity", "placebo")

FIGURE_SOURCES = {
    "leniency": ("tables/leniency.csv",),
    "prevalence": ("tables/chronic_prevalence.csv",),
    "time_to_work": ("tables/time_to_work.csv",),
    "estimates": ("estimates/estimates.csv",),
    "subgroups": ("estimates/estimates.csv",),
    "interventions": ("tables/interventions_by_department.csv",),
}
FIGURES = tuple(FIGURE_SOURCES)
FIGURE_FORMATS = ("png", "svg", "html")
EXPORTED_FIGURE_FORMATS = ("png", "svg")
"""The HTML figures carry the Vega JavaScript libraries, whose minified source holds nine-digit
constants that the RIN scan cannot tell from a person key: they stay in results/<snapshot>/figures/
for use inside; the report embeds the checked SVGs instead."""


def validity_tables(results: str, registered: list[str]) -> dict[str, str]:
    """Export name -> path of each CSV the validity stage registered under results/<snapshot>/
    validity/ (`registered`: its registered targets; empty without that stage)."""
    prefix = f"{results}/"
    return {
        path.removeprefix(prefix): path
        for path in registered
        if path.startswith(f"{results}/validity/") and path.endswith(".csv")
    }


def safe_tables(results: str, registered: list[str] = ()) -> dict[str, str]:
    """Export name -> safe (disclosure-checked) copy under results/<snapshot>/safe/, the
    validity tables included when registered."""
    names = [*RELEASED_TABLES, *validity_tables(results, list(registered))]
    return {name: f"{results}/safe/{name}" for name in names}


def safe_checks(results: str, registered: list[str] = ()) -> list[str]:
    """The output_check rows of every safe table (one file per disclosure job)."""
    checks = [f"{results}/safe/checks/tables.csv", f"{results}/safe/checks/linkage.csv"]
    if validity_tables(results, list(registered)):
        checks.append(f"{results}/safe/checks/validity.csv")
    return checks


def figure_sources(figure: str, results: str, registered: list[str] = ()) -> list[str]:
    """Export names of the safe tables a figure is drawn from (the forest plot also takes
    validity/heterogeneity.csv when the validity stage registered it)."""
    sources = list(FIGURE_SOURCES[figure])
    if figure == "subgroups" and "validity/heterogeneity.csv" in validity_tables(
        results, list(registered)
    ):
        sources.append("validity/heterogeneity.csv")
    return sources


def all_figure_sources(results: str, registered: list[str] = ()) -> dict[str, list[str]]:
    return {name: figure_sources(name, results, registered) for name in FIGURE_SOURCES}
