"""Rule `linkage_report`: rows, persons, linked persons and unlinked rows per source.

Key uniqueness (GBAPERSOONTAB per person, the yearly registers per person and year) is not asserted
here: ingest_cbs validated it for every delivered file and stops on a duplicated key.

The job runs at the rule's `niceness` (a side job: only the report waits for it), so on few cores
it uses what the cohort chain leaves idle.
"""

import os

from wwvw.core import logs
from wwvw.core.db import connect_rule
from wwvw.link.population import linkage_report

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    os.nice(snakemake.params.niceness)  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    sources = {
        name: name
        for name in snakemake.input.keys()  # noqa: F821, SIM118 (Namedlist iterates over values)
        if name not in ("municipalities", "code") and not name.split("_")[-1].isdigit()
    }
    sources.update({"education": "education", "debts": "debts", "medicines": "medicines"})
    report = linkage_report(con, sources)
    report.write_csv(snakemake.output[0])  # noqa: F821
    for row in report.iter_rows(named=True):
        log.info("%s", row)
