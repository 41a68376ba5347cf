"""Rule `figures`: every figure as PNG, SVG and HTML (Vega inlined), from safe tables only."""

from pathlib import Path

import polars as pl
from wwvw.core import logs
from wwvw.present import figures


def draw_all(params, inputs, output, log) -> None:
    """Read each safe table once, then build and save every figure."""
    bundle = Path(inputs.bundle).read_text(encoding="utf-8")
    needed = {name for sources in params.sources.values() for name in sources}
    frames = {
        name: pl.read_csv(params.safe_tables[name], infer_schema_length=None)
        for name in sorted(needed)
    }
    for k, figure in enumerate(params.figures):
        chart = figures.build(
            figure,
            {name: frames[name] for name in params.sources[figure]},
            params.language,
            params.snapshot,
        )
        figures.save(chart, output.png[k], output.svg[k], output.html[k], bundle)
        log.info("figure %s drawn from %s", figure, ", ".join(params.sources[figure]))


if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    draw_all(snakemake.params, snakemake.input, snakemake.output, log)  # noqa: F821
