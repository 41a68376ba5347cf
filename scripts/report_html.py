"""Rule `report_html`: results/<snapshot>/report.html from safe tables, figures and provenance."""

from pathlib import Path

import polars as pl
from wwvw.core import logs
from wwvw.present.report import build_report, load_json, scan_report
from wwvw.release.bundle import read_checks, thresholds_from_config
from wwvw.release.disclosure import DisclosureError

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    inp, params = snakemake.input, snakemake.params  # noqa: F821
    tables = {
        name: pl.read_csv(path, infer_schema_length=None)
        for name, path in zip(params.names, inp.tables, strict=True)
    }
    checks = pl.concat([read_checks(p) for p in inp.checks])
    figures = {Path(p).stem: Path(p).read_text() for p in inp.figures}
    html = build_report(
        tables,
        checks,
        figures,
        load_json(inp.provenance),
        params.language,
        params.snapshot,
        thresholds_from_config(params.disclosure),
    )
    problems = scan_report(html)
    if problems:
        log.error("report.html cannot be released: %s", "; ".join(problems))
        raise DisclosureError("report.html cannot be released:\n  " + "\n  ".join(problems))
    Path(snakemake.output[0]).write_text(html, encoding="utf-8")  # noqa: F821
    log.info("report with %d tables and %d figures", len(tables), len(figures))
