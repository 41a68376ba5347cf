"""Rule `compare_snapshots`: results/compare/<base>_vs_<other>.md."""

from pathlib import Path

from wwvw.core import logs
from wwvw.release.compare import compare

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    base = Path(snakemake.input.base).parent  # noqa: F821
    other = Path(snakemake.input.other).parent  # noqa: F821
    text = compare(base, other, snakemake.params.tables)  # noqa: F821
    Path(snakemake.output[0]).write_text(text)  # noqa: F821
    log.info("compared %s with %s", base.name, other.name)
