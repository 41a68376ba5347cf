# The export bundle for the CBS output check: only checked files, with export/output_check.csv.
# Included after report.smk: the export holds the report, which reads provenance.json.
from wwvw.release.outputs import EXPORTED_FIGURE_FORMATS  # noqa: E402

EXPORT = f"{RESULTS}/export"


rule export:
    """Disclosure-checked bundle (safe tables, figures, report, output_check.csv), or a clear failure."""
    input:
        tables=list(outputs.safe_tables(RESULTS).values()),
        checks=outputs.safe_checks(RESULTS),
        figures=[
            f"{RESULTS}/figures/{name}.{ext}"
            for name in FIGURE_SOURCES
            for ext in EXPORTED_FIGURE_FORMATS
        ],
        report=f"{RESULTS}/report.html",
        code=code("export.py"),
    output:
        # every file by name (no directory() output: Snakemake would add its timestamp file)
        check=f"{EXPORT}/output_check.csv",
        files=[f"{EXPORT}/{name}" for name in outputs.exported_files(RESULTS)],
    log:
        log_path("export"),
    benchmark:
        benchmark_path("export")
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=list(outputs.safe_tables(RESULTS)),
        figure_sources=outputs.all_figure_sources(),
        disclosure=config_keys("disclosure", THRESHOLD_KEYS),
    script:
        "../../scripts/export.py"


register_targets("export", [f"{EXPORT}/output_check.csv"])
