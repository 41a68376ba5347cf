"""Rule `figure`: one figure as PNG, SVG and HTML (Vega inlined), from safe tables only."""

import polars as pl
from wwvw import figures, logs

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp, out, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
    frames = {
        name: pl.read_csv(path, infer_schema_length=None)
        for name, path in zip(params.names, inp.tables, strict=True)
    }
    chart = figures.build(snakemake.wildcards.figure, frames, params.language, params.snapshot)  # noqa: F821
    figures.save(chart, out.png, out.svg, out.html)
    log.info("figure %s drawn from %s", snakemake.wildcards.figure, ", ".join(params.names))  # noqa: F821
