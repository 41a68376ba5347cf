"""Rule `figures`: every figure as PNG, SVG and HTML (Vega inlined), from safe tables only."""

from pathlib import Path

from wwvw.core import logs
from wwvw.present import figures

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    params, inputs, output = snakemake.params, snakemake.input, snakemake.output  # noqa: F821
    bundle = Path(inputs.bundle).read_text(encoding="utf-8")
    drawn = figures.charts(
        params.safe_tables, params.sources, params.figures, params.language, params.snapshot
    )
    for k, (figure, chart) in enumerate(drawn):
        figures.save(chart, output.png[k], output.svg[k], output.html[k], bundle)
        log.info("figure %s drawn from %s", figure, ", ".join(params.sources[figure]))
