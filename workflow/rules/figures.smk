# What may leave, drawn: the leniency aggregate, the disclosure-checked tables (safe/) and the
# figures drawn from them only. Validity tables are taken when the validity stage registered them.
from wwvw import outputs  # noqa: E402
from wwvw.outputs import FIGURE_SOURCES, RELEASED_TABLES  # noqa: E402

SAFE = f"{RESULTS}/safe"
HEADLINE_SPEC = next(
    (s for s in SPECIFICATIONS.values() if s.get("headline")),
    next(iter(SPECIFICATIONS.values())),
)


rule leniency_bins:
    """Caseworker propensities binned (each bin with enough clients), referral rate, first stage."""
    input:
        cohort=f"{RESULTS}/cohort/cohort.parquet",
    output:
        f"{RESULTS}/tables/leniency.csv",
    log:
        log_path("leniency_bins"),
    benchmark:
        benchmark_path("leniency_bins")
    conda:
        "../../envs/pipeline.yaml"
    params:
        kind=HEADLINE_SPEC.get("instruments", "loo_residualised"),
        min_caseload=HEADLINE_SPEC.get("min_caseload", 2),
        disclosure=config["disclosure"],
    script:
        "../../scripts/leniency_bins.py"


rule disclose_tables:
    """Safe copies of the released tables: CBS output rules applied, small cells suppressed."""
    input:
        tables=[f"{RESULTS}/{source}" for source in RELEASED_TABLES.values()],
        cohort=f"{RESULTS}/cohort/cohort.parquet",
    output:
        tables=[
            report(
                f"{SAFE}/{name}",
                caption=f"../report/{Path(name).stem}.rst",
                category="Tables",
                labels={"table": Path(name).stem},
            )
            for name in RELEASED_TABLES
        ],
        checks=f"{SAFE}/checks/tables.csv",
    log:
        log_path("disclose_tables"),
    benchmark:
        benchmark_path("disclose_tables")
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=list(RELEASED_TABLES),
        disclosure=config["disclosure"],
    script:
        "../../scripts/disclose_tables.py"


rule disclose_validity:
    """Safe copy of one validity table (a model table: residual degrees of freedom checked)."""
    input:
        tables=[f"{RESULTS}/validity/{{table}}.csv"],
        cohort=f"{RESULTS}/cohort/cohort.parquet",
    output:
        tables=[f"{SAFE}/validity/{{table}}.csv"],
        checks=f"{SAFE}/checks/validity_{{table}}.csv",
    log:
        log_path("disclose_validity", "_{table}"),
    benchmark:
        benchmark_path("disclose_validity", "_{table}")
    wildcard_constraints:
        table="[A-Za-z0-9][A-Za-z0-9_-]*",
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=lambda wc: [f"validity/{wc.table}.csv"],
        disclosure=config["disclosure"],
    script:
        "../../scripts/disclose_tables.py"


rule figure:
    """One figure as PNG, SVG and self-contained HTML, drawn from safe tables only."""
    input:
        tables=lambda wc: [
            outputs.safe_tables(RESULTS, stage_targets("validity"))[name]
            for name in outputs.figure_sources(
                wc.figure, RESULTS, stage_targets("validity")
            )
        ],
    output:
        png=report(
            f"{RESULTS}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        svg=f"{RESULTS}/figures/{{figure}}.svg",
        html=f"{RESULTS}/figures/{{figure}}.html",
    log:
        log_path("figure", "_{figure}"),
    benchmark:
        benchmark_path("figure", "_{figure}")
    wildcard_constraints:
        figure="|".join(FIGURE_SOURCES),
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=lambda wc: outputs.figure_sources(
            wc.figure, RESULTS, stage_targets("validity")
        ),
        language=config["figures"]["language"],
        snapshot=SNAPSHOT,
    script:
        "../../scripts/draw_figure.py"


register_targets(
    "figures",
    list(outputs.safe_tables(RESULTS).values())
    + [f"{SAFE}/checks/tables.csv"]
    + [
        f"{RESULTS}/figures/{name}.{ext}"
        for name in FIGURE_SOURCES
        for ext in ("png", "svg", "html")
    ],
)
