# What may leave, drawn: the leniency aggregate, the disclosure-checked tables (safe/) and the
# figures drawn from them only. Validity tables are taken when the validity stage registered them.
from wwvw.release import outputs  # noqa: E402
from wwvw.cohort.registry import LANGUAGES  # noqa: E402
from wwvw.release.disclosure import THRESHOLD_KEYS  # noqa: E402
from wwvw.release.provenance import locked_versions  # noqa: E402
from wwvw.release.outputs import (  # noqa: E402
    COHORT_TABLES,
    FIGURE_SOURCES,
    LINKAGE_TABLES,
    VALIDITY_TABLES,
)

SAFE = f"{RESULTS}/safe"
# the Vega JavaScript the HTML figures inline: one file per locked altair and vl-convert (the
# versions every environment of the workflow installs), shared by every snapshot (results/vega/)
VEGA_BUNDLE = (
    "results/vega/vega-altair-{altair}-vl-convert-{vl-convert-python}.js".format_map(
        locked_versions(Path(workflow.basedir) / "uv.lock")
    )
)


rule leniency_bins:
    """Caseworker propensities binned (each bin with enough clients), referral rate, first stage."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("leniency_bins.py"),
    output:
        f"{RESULTS}/tables/leniency.csv",
    log:
        log_path("leniency_bins"),
    benchmark:
        benchmark_path("leniency_bins")
    conda:
        "../../envs/pipeline.yaml"
    params:
        kind=HEADLINE_SAMPLE["instruments"],
        min_caseload=HEADLINE_SAMPLE["min_caseload"],
        disclosure=config_keys("disclosure", [*THRESHOLD_KEYS, "leniency_bins"]),
    script:
        "../../scripts/leniency_bins.py"


rule disclose_tables:
    """Safe copies of the released tables: CBS output rules applied, small cells suppressed."""
    input:
        tables=[f"{RESULTS}/{source}" for source in COHORT_TABLES.values()],
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("disclose_tables.py"),
    output:
        tables=[
            report(
                f"{SAFE}/{name}",
                caption=f"../report/{Path(name).stem}.rst",
                category="Tables",
                labels={"table": Path(name).stem},
            )
            for name in COHORT_TABLES
        ],
        checks=f"{SAFE}/checks/tables.csv",
    log:
        log_path("disclose_tables"),
    benchmark:
        benchmark_path("disclose_tables")
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=list(COHORT_TABLES),
        disclosure=config_keys("disclosure", [*THRESHOLD_KEYS, "time_to_work_step"]),
    script:
        "../../scripts/disclose_tables.py"


use rule disclose_tables as disclose_linkage with:
    # a job of its own: at national scale the linkage report ends last, and the figures need
    # only the tables above
    input:
        # no cohort: the linkage report holds no model, and the cohort does not change it
        tables=[f"{RESULTS}/{source}" for source in LINKAGE_TABLES.values()],
        code=code("disclose_tables.py"),
    output:
        tables=[
            report(
                f"{SAFE}/{name}",
                caption=f"../report/{Path(name).stem}.rst",
                category="Tables",
                labels={"table": Path(name).stem},
            )
            for name in LINKAGE_TABLES
        ],
        checks=f"{SAFE}/checks/linkage.csv",
    log:
        log_path("disclose_linkage"),
    benchmark:
        benchmark_path("disclose_linkage")
    params:
        names=list(LINKAGE_TABLES),
        disclosure=config_keys("disclosure", [*THRESHOLD_KEYS, "time_to_work_step"]),


use rule disclose_tables as disclose_validity with:
    # one job for all validity tables: each is small, and a job per table paid the start-up of a
    # Python process eight times in the default run; model tables get their residual degrees of
    # freedom checked
    input:
        tables=[f"{RESULTS}/{source}" for source in VALIDITY_TABLES.values()],
        cohort=f"{RESULTS}/cohort/cohort.parquet",
        code=code("disclose_tables.py"),
    output:
        tables=[f"{SAFE}/{name}" for name in VALIDITY_TABLES],
        checks=f"{SAFE}/checks/validity.csv",
    log:
        log_path("disclose_validity"),
    benchmark:
        benchmark_path("disclose_validity")
    params:
        names=list(VALIDITY_TABLES),
        disclosure=config_keys("disclosure", [*THRESHOLD_KEYS, "time_to_work_step"]),


rule vega_bundle:
    """Vega, Vega-Lite and vega-embed as one script for the HTML figures: vl-convert bundles it
    in about 2.5 s, so once per installation, not in every figures job. A side job: it runs at
    a lower CPU priority, on what the conversion and the cohort chain leave idle."""
    input:
        code=code("vega_bundle.py"),
    output:
        VEGA_BUNDLE,
    log:
        "results/vega/logs/vega_bundle.log",
    benchmark:
        "results/vega/benchmarks/vega_bundle.tsv"
    conda:
        "../../envs/pipeline.yaml"
    params:
        niceness=SIDE_JOB_NICENESS,
    script:
        "../../scripts/vega_bundle.py"


rule figures:
    """Every figure as PNG, SVG and self-contained HTML, drawn from safe tables only.

    One job: drawing is about a second a figure, importing altair and vl-convert several; a job
    per figure paid that six times."""
    input:
        # ancient: forcing or rebuilding the one shared bundle does not make every snapshot's
        # figures outdated (another version is another file, and a new input)
        bundle=ancient(VEGA_BUNDLE),
        tables=sorted(
            {
                outputs.safe_tables(RESULTS)[name]
                for sources in FIGURE_SOURCES.values()
                for name in sources
            }
        ),
        code=code("figures.py"),
    output:
        png=[
            report(
                f"{RESULTS}/figures/{figure}.png",
                caption="../report/figure.rst",
                category="Figures",
                labels={"figure": figure},
            )
            for figure in FIGURE_SOURCES
        ],
        svg=[f"{RESULTS}/figures/{figure}.svg" for figure in FIGURE_SOURCES],
        html=[f"{RESULTS}/figures/{figure}.html" for figure in FIGURE_SOURCES],
    log:
        log_path("figures"),
    benchmark:
        benchmark_path("figures")
    conda:
        "../../envs/pipeline.yaml"
    params:
        figures=list(FIGURE_SOURCES),
        sources=outputs.all_figure_sources(),
        safe_tables=outputs.safe_tables(RESULTS),
        language=config["figures"]["language"],
        snapshot=SNAPSHOT,
    script:
        "../../scripts/figures.py"


rule report_figures:
    """The report's figures in one language (en, nl) as SVG, drawn from safe tables only."""
    input:
        tables=sorted(
            {
                outputs.safe_tables(RESULTS)[name]
                for sources in FIGURE_SOURCES.values()
                for name in sources
            }
        ),
        code=code("report_figures.py"),
    output:
        svg=[
            f"{RESULTS}/figures/{{language}}/{figure}.svg" for figure in FIGURE_SOURCES
        ],
    log:
        log_path("report_figures", "_{language}"),
    benchmark:
        benchmark_path("report_figures", "_{language}")
    wildcard_constraints:
        language="|".join(LANGUAGES),
    conda:
        "../../envs/pipeline.yaml"
    params:
        figures=list(FIGURE_SOURCES),
        sources=outputs.all_figure_sources(),
        safe_tables=outputs.safe_tables(RESULTS),
        language=lambda wc: wc.language,
        snapshot=SNAPSHOT,
    script:
        "../../scripts/report_figures.py"


register_targets(
    "figures",
    list(outputs.safe_tables(RESULTS).values())
    + outputs.safe_checks(RESULTS)
    + [
        f"{RESULTS}/figures/{name}.{ext}"
        for name in FIGURE_SOURCES
        for ext in ("png", "svg", "html")
    ],
)
