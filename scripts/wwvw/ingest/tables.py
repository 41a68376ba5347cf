"""Which CBS tables the workflow reads: stem, year and columns, from the study window in config."""

from dataclasses import dataclass

KEY = ["RINPERSOONS", "RINPERSOON"]


@dataclass(frozen=True)
class Table:
    key: str  # name of the raw Parquet file and of the DuckDB view
    stem: str  # CBS stem as in the file name (SECM, GBAPERSOON, ...)
    year: int | str  # register year, or "latest" for cumulative (BUS) and latest-state files
    columns: tuple[str, ...]


def study_years(cohort: dict) -> range:
    return range(int(cohort["study_start"][:4]), int(cohort["study_end"][:4]) + 1)


def cbs_tables(cohort: dict) -> list[Table]:
    """Every CBS table the workflow needs. Covariates use the anchor year (education) or the year
    before it (debts on 31 December, medicines); the anchors lie in the study window."""
    years = study_years(cohort)
    before = range(years.start - 1, years.stop - 1)
    tables = [
        Table("secm", "SECM", "latest", (*KEY, "AANVSECM", "EINDSECM", "SECM")),
        Table(
            "persons",
            "GBAPERSOON",
            "latest",
            (*KEY, "GBAGESLACHT", "GBAGEBOORTEJAAR", "GBAGEBOORTEMAAND", "GBAHERKOMSTGROEPERING"),
        ),
        Table(
            "households",
            "GBAHUISHOUDENS",
            "latest",
            (*KEY, "DATUMAANVANGHH", "DATUMEINDEHH", "TYPHH", "PLHH", "AANTALKINDHH"),
        ),
        Table(
            "addresses",
            "GBAADRESOBJECT",
            "latest",
            (
                *KEY,
                "GBADATUMAANVANGADRESHOUDING",
                "GBADATUMEINDEADRESHOUDING",
                "SOORTOBJECTNUMMER",
                "RINOBJECTNUMMER",
            ),
        ),
        Table(
            "municipalities",
            "VSLGWB",
            "latest",
            ("SOORTOBJECTNUMMER", "RINOBJECTNUMMER", *(f"GEM{y}" for y in years)),
        ),
    ]
    tables += [
        Table(f"education_{y}", "HOOGSTEOPL", y, (*KEY, "OPLNIVSOI2016AGG4HBMETNIRWO"))
        for y in years
    ]
    tables += [Table(f"debts_{y}", "WANBZVW", y, tuple(KEY)) for y in before]
    tables += [Table(f"medicines_{y}", "MEDICIJN", y, (*KEY, "ATC4")) for y in before]
    return tables


# the CBS stems of the contract (the same for every study window)
CONTRACT_STEMS = frozenset(
    t.stem for t in cbs_tables({"study_start": "2000-01-01", "study_end": "2000-12-31"})
)
# the municipal extracts of the contract
MUNICIPAL_EXTRACTS = ("uitkeringen.csv", "werkintake.csv", "interventies.csv")


def yearly(tables: list[Table], prefix: str) -> dict[int, str]:
    """{year: key} of the yearly tables of one kind (education, debts, medicines)."""
    return {t.year: t.key for t in tables if t.key.startswith(prefix + "_")}
