"""Privacy guard: no direct identifier comes in, no person key or person-level row goes out.

Inputs. CBS replaces the citizen service number (BSN) by the pseudonymous key RIN before any file
reaches the project; a delivery that still carries a direct identifier must be refused, not
cleaned. `check_column_names` refuses a column whose name says it holds a BSN, a name, an address
or house number, a postcode together with a house number, or (municipal files) a date of birth at
day level. `check_municipal_values` refuses a municipal file in which any column other than the
RIN columns holds a nine-digit number that passes the BSN eleven-test, and a postcode column whose
values carry a house number. In the columns typed by hand (FREE_TEXT_COLUMNS) it also refuses a
BSN in any other notation (dashes, spaces, full-width digits, its leading zero dropped), a name
after a title, an e-mail address and a telephone number.

Outputs. `check_results` scans result files with the disclosure module's checks (RIN-like numbers,
person-level rows) before anything leaves the workflow; the export bundle itself
(`wwvw.release.disclosure.build_export`) runs the same scans again.

Every message names the file and the column (and data-row numbers), never a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from wwvw.core.errors import DeliveryError, example_rows, mask_numbers
from wwvw.release.disclosure import check_file

RIN_COLUMNS = frozenset({"RINPERSOONS", "RINPERSOON"})
# the municipal columns typed by hand: where a caseworker may write a name, a number or an address
FREE_TEXT_COLUMNS = frozenset({"INTERVENTIE", "LOCATIE", "WERKCONSULENT", "AFDELING"})

# Words that make a column name a direct identifier, compared with the name's words (split at
# anything that is not a letter or digit, and at lower-to-upper case changes) and with the whole
# name squashed to letters and digits ("date_of_birth" -> "dateofbirth").
_BSN = ("bsn", "burgerservicenummer", "sofinummer", "sofinr", "socialsecuritynumber", "ssn")
# ... and any word that begins with one of these stems (BSNNUMMER, BSNNR, Burgerservicenr) or,
# for "bsn", ends with it (CLIENTBSN)
_BSN_STEMS = ("bsn", "burgerservice", "sofinum", "sofinr")
_NAMES = (
    "achternaam", "voornaam", "voornamen", "voorletters", "roepnaam", "geslachtsnaam",
    "familienaam", "tussenvoegsel", "firstname", "lastname", "surname", "fullname", "givenname",
    "initials", "meisjesnaam", "geboortenaam", "persoonsnaam", "partnernaam", "volledigenaam",
    "eigennaam", "naamgebruik",
)  # fmt: skip
# "naam" alone names a person only as the whole column name or with a person word (NAAM,
# NAAM_CLIENT); LOCATIE_NAAM or INTERVENTIENAAM name a place or a programme.
_PLAIN_NAMES = ("naam", "namen", "name", "names")
_ADDRESS = (
    "adres", "address", "straat", "straatnaam", "street", "streetname", "huisnummer", "huisnr",
    "huisletter", "huisnummertoevoeging", "housenumber", "housenr", "woonadres",
    "telefoon", "telefoonnummer", "phone", "email", "emailadres", "iban",
)  # fmt: skip
_HOUSE_NUMBER = ("huisnummer", "huisnr", "housenumber", "housenr", "huisletter")
_POSTCODE = ("postcode", "postcodes", "zipcode", "zip", "postalcode", "pc6")
_BIRTH_DATE = (
    "geboortedatum", "gebdatum", "gebdat", "geboortedag", "birthdate", "dateofbirth", "dob",
    "birthday", "geboortedatumclient",
)  # fmt: skip
# Compounds a municipality writes without a separator: CLIENTNAAM, KLANTADRES, CLIENT_BSN.
_OWNERS = (
    "client", "klant", "persoon", "aanvrager", "deelnemer", "cliënt", "partner", "echtgenoot",
    "echtgenote", "ouder", "moeder", "vader", "kind", "volledige", "volledig", "full",
)  # fmt: skip

BSN_KIND = "a citizen service number (BSN)"
IDENTIFIER_KINDS: dict[str, tuple[str, ...]] = {  # besides the BSN (`_names_a_bsn`)
    "a name": _NAMES,
    "an address or contact detail": _ADDRESS,
}
BIRTH_DATE_KIND = "a date of birth at day level"

POSTCODE_WITH_HOUSE_NUMBER = r"[0-9]{4}\s?[A-Za-z]{2}[\s,.\-/]*[0-9]+"
NINE_DIGITS = r"[0-9]+"
# a BSN as it is often printed: 1234.56.782 or 1234 56 782 (not inside a longer number)
GROUPED_BSN = r"(?:^|[^0-9.])([0-9]{4}[. ][0-9]{2}[. ][0-9]{3})(?:$|[^0-9])"
BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
# A BSN in any notation: eight or nine digits, each pair separated by at most one space, dot,
# dash or slash (123-456-782, 123 456 782, 1 2 3 4 5 6 7 8 2), after Unicode normalisation
# (full-width digits); eight digits are a BSN whose leading zero was dropped. Dates are taken out
# first, so that 01-03-2016 is not read as a number.
SEPARATED_DIGITS = r"(?:^|[^0-9])([0-9](?:[ .\-/]?[0-9]){7,8})(?:$|[^0-9])"
DATE_SHAPES = r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{4}|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
# Other direct identifiers in free text: a person addressed by title and name, an e-mail address,
# a Dutch telephone number (ten digits from 0, or +31 / 0031 and nine digits).
FREE_TEXT_IDENTIFIERS = {
    "a person's name after a title (dhr., mevr., de heer, ...)": (
        # an abbreviated title needs its dot: 'MS Office' and 'HR Basis' are not persons
        r"(?:\b(?i:dhr|mevr|mw|mej|hr|mr|mrs|ms)\.\s*|\b(?i:de heer|mevrouw|meneer|juffrouw)\s+)"
        r"(?:[A-Z]\.\s*)*(?:(?i:van|de|der|den|ter|ten|van der|van den)\s+)*[A-Z][a-z]"
    ),
    "an e-mail address": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "a telephone number": (
        r"(?:^|[^0-9+])(?:\+31|0031|0)[ \-]?(?:\([0-9]{1,3}\)[ \-]?)?(?:[0-9][ \-]?){8}[0-9]"
        r"(?:$|[^0-9])"
    ),
}


class PrivacyError(DeliveryError):
    """An input carries a direct identifier, or a result a person key or person-level rows."""


def name_words(column: str) -> set[str]:
    """The words of a column name, lower case, plus the whole name squashed to letters/digits."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", column.strip())
    words = {w for w in re.split(r"[^0-9a-zA-Zë]+", spaced.lower()) if w}
    return words | {squashed(column)}


def squashed(column: str) -> str:
    return re.sub(r"[^0-9a-zë]", "", column.lower())


def _with_owners(vocabulary: Iterable[str]) -> set[str]:
    """The words, and their compounds with a person word (CLIENTNAAM, NAAMCLIENT)."""
    vocabulary = set(vocabulary)
    return (
        vocabulary
        | {owner + word for owner in _OWNERS for word in vocabulary}
        | {word + owner for owner in _OWNERS for word in vocabulary}
    )


def _matches(column: str, vocabulary: Iterable[str]) -> bool:
    return bool(name_words(column) & _with_owners(vocabulary))


def _names_a_bsn(column: str) -> bool:
    """BSN, BSNNUMMER, BSN_NR, Burgerservicenr, CLIENTBSN, sofinummer."""
    words = name_words(column)
    return _matches(column, _BSN) or any(
        w.startswith(_BSN_STEMS) or w.endswith("bsn") for w in words
    )


def shown(column: str) -> str:
    """A column name as a message may quote it: long digit runs masked, at most 60 characters
    (a file without a header row has data where its names should be)."""
    return repr(mask_numbers(column)[:60])


def _is_plain_name(column: str) -> bool:
    """NAAM, Naam client, CLIENT_NAAM; not LOCATIE_NAAM."""
    words = name_words(column)
    has_owner = bool(words & set(_OWNERS))
    plain = squashed(column) in _with_owners(_PLAIN_NAMES)
    return plain or (has_owner and bool(words & set(_PLAIN_NAMES)))


def identifier_kind(column: str, municipal: bool, columns: Iterable[str] = ()) -> str | None:
    """What direct identifier a column's name announces, or None.

    A postcode counts when a house number sits next to it in the file (another column named like
    one); a postcode alone, and birth year or month, are not direct identifiers. Dates of birth at
    day level are refused in municipal files (CBS person files carry year and month only).
    """
    if column.strip().upper() in RIN_COLUMNS:
        return None
    if _names_a_bsn(column):
        return BSN_KIND
    for kind, vocabulary in IDENTIFIER_KINDS.items():
        if _matches(column, vocabulary):
            return kind
    if _is_plain_name(column):
        return "a name"
    if municipal and _matches(column, _BIRTH_DATE):
        return BIRTH_DATE_KIND
    if _matches(column, _POSTCODE) and any(
        _matches(other, _HOUSE_NUMBER) for other in columns if other != column
    ):
        return "a postcode with a house number (next to a house-number column)"
    return None


def check_column_names(file: str, columns: Iterable[str], municipal: bool) -> None:
    """Refuse a file with a column named like a direct identifier (all columns, used or not)."""
    columns = list(columns)
    found = [
        (position, column, kind)
        for position, column in enumerate(columns, start=1)
        if (kind := identifier_kind(column, municipal, columns)) is not None
    ]
    if found:
        listing = "; ".join(f"column {shown(c)} (column {p}) looks like {k}" for p, c, k in found)
        raise PrivacyError(
            f"{file}: refused, the file carries a direct identifier: {listing}. Direct "
            "identifiers must not enter the project: ask the supplier (CBS) for a delivery "
            "without this column; do not edit the file by hand"
        )


def passes_eleven_test(digits: pl.Expr) -> pl.Expr:
    """True for nine-digit strings that pass the BSN eleven-test (not all zeros)."""
    total = pl.lit(0)
    for position, weight in enumerate(BSN_WEIGHTS):
        total = total + digits.str.slice(position, 1).cast(pl.Int64) * weight
    return (total % 11 == 0) & (digits != "000000000")


def bsn_like_rows(values: pl.Series, free_text: bool = False) -> list[int]:
    """0-based rows of a text column holding a nine-digit run (not part of a longer number), or
    one printed in groups (1234.56.782), that passes the BSN eleven-test. `free_text`: also any
    other notation (SEPARATED_DIGITS: dashes, spaces between digits, full-width digits, the
    leading zero dropped)."""
    text = pl.col("text")
    runs = text.str.extract_all(NINE_DIGITS).list.concat(
        text.str.extract(GROUPED_BSN, 1).str.replace_all(r"[. ]", "")
    )
    if free_text:
        plain = text.str.normalize("NFKC").str.replace_all(DATE_SHAPES, " ")
        separated = plain.str.extract_all(r"[0-9](?:[ .\-/]?[0-9]){7,8}").list.eval(
            pl.element().str.replace_all(r"[^0-9]", "").str.pad_start(9, "0")
        )
        runs = runs.list.concat(separated)
    found = (
        pl.DataFrame({"text": values.cast(pl.String)})
        .with_row_index("row")
        .select("row", runs.alias("run"))
        .explode("run")
        .filter(pl.col("run").str.len_bytes() == 9)
    )
    if found.height == 0:
        return []
    hits = found.filter(passes_eleven_test(pl.col("run")))
    return sorted(set(hits["row"].to_list()))


def free_text_identifier_rows(values: pl.Series) -> dict[str, list[int]]:
    """Kind -> 0-based rows of a free-text column that hold a name after a title, an e-mail
    address or a telephone number (FREE_TEXT_IDENTIFIERS), after Unicode normalisation."""
    text = values.cast(pl.String).str.normalize("NFKC")
    found = {}
    for kind, pattern in FREE_TEXT_IDENTIFIERS.items():
        rows = text.str.contains(pattern).fill_null(False).arg_true().to_list()
        if rows:
            found[kind] = rows
    return found


def check_municipal_values(file: str, frame: pl.DataFrame) -> None:
    """Refuse a municipal extract (all columns as delivered, as text) that holds a BSN-valid
    nine-digit number outside the RIN columns, or a postcode column holding house numbers."""
    problems = []
    for column in frame.columns:
        if column.strip().upper() in RIN_COLUMNS:
            continue
        text = frame[column].cast(pl.String)
        rows = bsn_like_rows(text)
        if rows:
            problems.append(
                f"column {shown(column)}: a nine-digit number that passes the BSN eleven-test in "
                f"{example_rows([r + 1 for r in rows])}"
            )
        elif column.strip().upper() in FREE_TEXT_COLUMNS:
            rows = bsn_like_rows(text, free_text=True)
            if rows:
                problems.append(
                    f"column {shown(column)}: a number that passes the BSN eleven-test written "
                    f"with separators, in other digits or without its leading zero in "
                    f"{example_rows([r + 1 for r in rows])}"
                )
        if column.strip().upper() in FREE_TEXT_COLUMNS:
            for kind, rows in free_text_identifier_rows(text).items():
                problems.append(
                    f"column {shown(column)}: {kind} in {example_rows([r + 1 for r in rows])}"
                )
        if not _matches(column, _POSTCODE):
            continue
        postcode = text.str.contains(rf"(?:^|[^0-9]){POSTCODE_WITH_HOUSE_NUMBER}").fill_null(False)
        if postcode.any():
            rows = [r + 1 for r in postcode.arg_true().to_list()]
            problems.append(
                f"column {shown(column)}: a postcode with a house number in {example_rows(rows)}"
            )
    if problems:
        raise PrivacyError(
            f"{file}: refused, the file looks like it carries direct identifiers: "
            + "; ".join(problems)
            + ". Only the pseudonymous RIN may identify a person: ask the supplier for a "
            "delivery without these values"
        )


def check_results(paths: Iterable[str | Path]) -> None:
    """Scan result files (text: CSV, Markdown, HTML, SVG, JSON, logs) for RIN-like numbers and,
    in CSV tables, person-level rows or person-key columns (`wwvw.release.disclosure.check_file`).
    Raises PrivacyError listing every finding; Parquet files are person-level by design and stay
    inside CBS, so they are not accepted here."""
    findings = []
    for path in map(Path, paths):
        try:
            findings += [str(f) for f in check_file(path)]
        except ValueError:
            findings.append(f"{path.name}: not a text result that can be scanned")
    if findings:
        raise PrivacyError("result files may not leave the workflow:\n  " + "\n  ".join(findings))
