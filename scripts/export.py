"""Rule `export`: results/<snapshot>/export/, the bundle for the CBS output check."""

from pathlib import Path

import polars as pl
from wwvw.core import logs
from wwvw.release.bundle import export_bundle, read_checks, thresholds_from_config
from wwvw.release.disclosure import DisclosureError

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp, params = snakemake.input, snakemake.params  # noqa: F821
    try:
        checks = export_bundle(
            tables=dict(zip(params.names, inp.tables, strict=True)),
            figures={f"figures/{Path(p).name}": p for p in inp.figures},
            figure_sources=params.figure_sources,
            report=inp.report,
            earlier=pl.concat([read_checks(p) for p in inp.checks]),
            out_dir=Path(snakemake.output.check).parent,  # noqa: F821
            thresholds=thresholds_from_config(params.disclosure),
        )
    except DisclosureError as error:
        log.error("%s", error)
        raise
    for status, n in checks.group_by("status").len().sort("status").iter_rows():
        log.info("%d checks %s", n, status)
