"""Rule `linkage_report`: rows, persons, linked persons and unlinked rows per source."""

from wwvw import logs
from wwvw.db import assert_unique, connect_rule
from wwvw.population import linkage_report

UNIQUE_KEYS = {
    "persons": ["RINPERSOONS", "RINPERSOON"],
    "municipalities": ["SOORTOBJECTNUMMER", "RINOBJECTNUMMER"],
}

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    con = connect_rule(snakemake)  # noqa: F821
    for table, keys in UNIQUE_KEYS.items():
        assert_unique(con, table, keys, f"{table} ({snakemake.input[table]})")  # noqa: F821
    for kind in ("education", "debts", "medicines"):
        keys = ["year", "RINPERSOONS", "RINPERSOON"] + (["ATC4"] if kind == "medicines" else [])
        assert_unique(con, kind, keys, f"{kind} (per register year)")
    sources = {
        name: name
        for name in snakemake.input.keys()  # noqa: F821, SIM118 (Namedlist iterates over values)
        if name not in ("persons", "municipalities") and not name.split("_")[-1].isdigit()
    }
    sources.update(
        {"persons": "persons", "education": "education", "debts": "debts", "medicines": "medicines"}
    )
    report = linkage_report(con, sources)
    report.write_csv(snakemake.output[0])  # noqa: F821
    for row in report.iter_rows(named=True):
        log.info("%s", row)
