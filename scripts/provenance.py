"""Rule `provenance`: results/<snapshot>/provenance.json."""

import json
from pathlib import Path

from wwvw.core import logs
from wwvw.release.provenance import code_version, locked_versions, rule_runtimes

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    params = snakemake.params  # noqa: F821
    root = Path(params.root)
    document = {
        "snapshot": params.config["snapshot"],
        "data_dir": params.config["data_dir"],
        "chosen_cbs_files": params.chosen,
        "inputs": json.loads(Path(snakemake.input.inputs).read_text()),  # noqa: F821
        "config": params.config,
        "code": code_version(root),
        "packages": locked_versions(Path(snakemake.input.lock)),  # noqa: F821
        "runtimes": rule_runtimes(sorted(str(p) for p in Path(params.benchmarks).glob("*.tsv"))),
    }
    Path(snakemake.output[0]).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")  # noqa: F821
    log.info(
        "provenance of %d input files and %d jobs",
        len(document["inputs"]),
        len(document["runtimes"]),
    )
