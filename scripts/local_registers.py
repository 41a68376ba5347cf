"""Rule `local_registers`: each national register once, restricted to the study's persons."""

from wwvw.core import logs
from wwvw.core.db import connect_rule
from wwvw.link.local import restrict_registers

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake, yearly=())  # noqa: F821
    counts = restrict_registers(
        con,
        snakemake.params.municipality,  # noqa: F821
        dict(snakemake.output.items()),  # noqa: F821
        sources={k: v for k, v in snakemake.input.items() if k != "code"},  # noqa: F821
    )
    for name, (rows, kept) in counts.items():
        log.info("%s: %d of %d rows kept", name, kept, rows)
