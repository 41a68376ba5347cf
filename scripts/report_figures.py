"""Rule `report_figures`: the figures of the report in one language, as SVG (from safe tables)."""

from wwvw.core import logs
from wwvw.present import figures

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    params, output = snakemake.params, snakemake.output  # noqa: F821
    drawn = figures.charts(
        params.safe_tables, params.sources, params.figures, params.language, params.snapshot
    )
    for k, (figure, chart) in enumerate(drawn):
        chart.save(str(output.svg[k]))
        log.info(
            "figure %s (%s) drawn from %s",
            figure,
            params.language,
            ", ".join(params.sources[figure]),
        )
