# The export bundle for the CBS output check: only checked files, with export/output_check.csv.
# Included after report.smk: the export holds the report, which reads provenance.json.
from wwvw.outputs import EXPORTED_FIGURE_FORMATS  # noqa: E402


rule export:
    """Disclosure-checked bundle (safe tables, figures, report, output_check.csv), or a clear failure."""
    input:
        tables=lambda wc: list(
            outputs.safe_tables(RESULTS, stage_targets("validity")).values()
        ),
        checks=lambda wc: outputs.safe_checks(RESULTS, stage_targets("validity")),
        figures=[
            f"{RESULTS}/figures/{name}.{ext}"
            for name in FIGURE_SOURCES
            for ext in EXPORTED_FIGURE_FORMATS
        ],
        report=f"{RESULTS}/report.html",
    output:
        directory(f"{RESULTS}/export"),
    log:
        log_path("export"),
    benchmark:
        benchmark_path("export")
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=lambda wc: list(outputs.safe_tables(RESULTS, stage_targets("validity"))),
        figure_sources=lambda wc: outputs.all_figure_sources(
            RESULTS, stage_targets("validity")
        ),
        disclosure=config["disclosure"],
    script:
        "../../scripts/build_export.py"


register_targets("export", [f"{RESULTS}/export"])
