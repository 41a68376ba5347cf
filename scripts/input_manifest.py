"""Rule `input_manifest`: every file of the snapshot folder with its SHA-256, hashed once per
snapshot (19 GB at national scale: half a minute that provenance no longer spends at each rerun)."""

import json
from pathlib import Path

from wwvw.core import logs
from wwvw.release.provenance import input_files

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    params = snakemake.params  # noqa: F821
    rows = input_files(Path(params.data_dir), params.chosen)
    Path(snakemake.output[0]).write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")  # noqa: F821
    log.info("%d input files, %.1f GB hashed", len(rows), sum(r["bytes"] for r in rows) / 1e9)
