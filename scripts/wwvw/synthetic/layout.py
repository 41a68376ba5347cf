"""The synthetic snapshot's files: names, formats, column widths and labels (input contract)."""

from __future__ import annotations

KEY = {"RINPERSOONS": 1, "RINPERSOON": 9}

SECM_LABELS = {
    "11": "Werknemer",
    "12": "Directeur-grootaandeelhouder",
    "13": "Zelfstandig ondernemer",
    "14": "Overige zelfstandige",
    "15": "Meewerkend gezinslid",
    "21": "Ontvanger werkloosheidsuitkering",
    "22": "Ontvanger bijstandsuitkering",
    "23": "Ontvanger uitkering sociale voorziening overig",
    "24": "Ontvanger uitkering ziekte/arbeidsongeschiktheid",
    "25": "Ontvanger pensioenuitkering",
    "26": "(Student) scholier met inkomen",
    "31": "(Student) scholier zonder inkomen",
    "32": "Overig zonder inkomen",
}
PLHH_LABELS = {
    " 1": "Thuiswonend kind",
    " 2": "Alleenstaande",
    " 3": "Partner in niet-gehuwd paar zonder kinderen",
    " 4": "Partner in gehuwd paar zonder kinderen",
    " 5": "Partner in niet-gehuwd paar met kinderen",
    " 6": "Partner in gehuwd paar met kinderen",
    " 7": "Ouder in eenouderhuishouden",
    " 8": "Overig lid huishouden",
    " 9": "Referentiepersoon in overig huishouden",
    "10": "Lid institutioneel huishouden",
}
TYPHH_LABELS = {
    " 1": "Eenpersoonshuishouden",
    " 2": "Niet-gehuwd paar zonder kinderen",
    " 3": "Gehuwd paar zonder kinderen",
    " 4": "Niet-gehuwd paar met kinderen",
    " 5": "Gehuwd paar met kinderen",
    " 6": "Eenouderhuishouden",
    " 7": "Overig huishouden",
    " 8": "Institutioneel huishouden",
}

# table kind -> (column widths, variable labels, value labels)
TABLES: dict[str, dict] = {
    "SECMBUS": {
        "widths": {**KEY, "AANVSECM": 8, "EINDSECM": 8, "SECM": 2},
        "labels": {
            "SECM": "Sociaaleconomische categorie",
            "AANVSECM": "Datum aanvang",
            "EINDSECM": "Datum einde",
        },
        "values": {"SECM": SECM_LABELS},
    },
    "GBAPERSOONTAB": {
        "widths": {
            **KEY,
            "GBAGESLACHT": 1,
            "GBAGEBOORTEJAAR": 4,
            "GBAGEBOORTEMAAND": 2,
            "GBAHERKOMSTGROEPERING": 4,
            "GBAGENERATIE": 1,
        },
        "labels": {"GBAGESLACHT": "Geslacht", "GBAHERKOMSTGROEPERING": "Herkomstgroepering"},
        "values": {
            "GBAGESLACHT": {"1": "Mannen", "2": "Vrouwen", "-": "Onbekend"},
            "GBAGENERATIE": {"0": "Autochtoon", "1": "Eerste generatie", "2": "Tweede generatie"},
        },
    },
    "HOOGSTEOPLTAB": {
        "widths": {**KEY, "OPLNIVSOI2016AGG4HBMETNIRWO": 4},
        "labels": {"OPLNIVSOI2016AGG4HBMETNIRWO": "Hoogst behaalde opleidingsniveau (SOI 2016)"},
        "values": {},
    },
    "GBAHUISHOUDENSBUS": {
        "widths": {
            **KEY,
            "DATUMAANVANGHH": 8,
            "DATUMEINDEHH": 8,
            "TYPHH": 2,
            "PLHH": 2,
            "AANTALKINDHH": 2,
        },
        "labels": {"TYPHH": "Type huishouden", "PLHH": "Plaats in het huishouden"},
        "values": {"TYPHH": TYPHH_LABELS, "PLHH": PLHH_LABELS},
    },
    "WANBZVWTAB": {"widths": dict(KEY), "labels": {}, "values": {}},
    "MEDICIJNTAB": {
        "widths": {**KEY, "ATC4": 4},
        "labels": {"ATC4": "ATC-code op 4 posities"},
        "values": {},
    },
    "GBAADRESOBJECTBUS": {
        "widths": {
            **KEY,
            "GBADATUMAANVANGADRESHOUDING": 8,
            "GBADATUMEINDEADRESHOUDING": 8,
            "SOORTOBJECTNUMMER": 1,
            "RINOBJECTNUMMER": 12,
        },
        "labels": {},
        "values": {},
    },
    "VSLGWBTAB": {
        "widths": {
            "SOORTOBJECTNUMMER": 1,
            "RINOBJECTNUMMER": 12,
            **{(f"Gem{y}" if y == 2015 else f"gem{y}"): 4 for y in range(2010, 2019)},
        },
        "labels": {},
        "values": {},
    },
}

# file name (in cbs/) -> table kind. The year in a TAB name is the register year.
CBS_FILES = {
    "SECMBUS2017V1.sav": "SECMBUS",  # older delivery: spells open at 20171231 continue in 2018
    "SECMBUS2018V1.sav": "SECMBUS",
    "GBAPERSOON2018TABV1.sav": "GBAPERSOONTAB",  # older version: must lose to V2
    "GBAPERSOON2018TABV2.sav": "GBAPERSOONTAB",
    "HOOGSTEOPL2015TABV3.sav": "HOOGSTEOPLTAB",
    "HOOGSTEOPL2016TABV3.sav": "HOOGSTEOPLTAB",
    "HOOGSTEOPL2017TABV3.sav": "HOOGSTEOPLTAB",
    "VRLHOOGSTEOPL2016TABV4.sav": "HOOGSTEOPLTAB",  # provisional: must be ignored
    "GBAHUISHOUDENS2018BUSV1.sav": "GBAHUISHOUDENSBUS",
    "WANBZVW2014TABV1.sav": "WANBZVWTAB",
    "WANBZVW2015TABV1.csv": "WANBZVWTAB",  # a converted copy
    "WANBZVW2016TABV1.sav": "WANBZVWTAB",
    "MEDICIJN2014TABV1.sav": "MEDICIJNTAB",
    "MEDICIJN2015TABV1.parquet": "MEDICIJNTAB",  # a converted copy
    "MEDICIJN2016TABV1.sav": "MEDICIJNTAB",
    "GBAADRESOBJECT2018BUSV1.sav": "GBAADRESOBJECTBUS",
    "VSLGWB2018TAB03V1.sav": "VSLGWBTAB",
}
MUNICIPAL_FILES = {
    "uitkeringen.csv": "utf-8-sig",
    "werkintake.csv": "utf-8",
    "interventies.csv": "cp1252",
}
TRUTH_FILES = ("summary.json", "persons.parquet", "interventions.parquet")


def snapshot_files() -> list[str]:
    """Every file of the synthetic snapshot, relative to its directory."""
    return (
        [f"cbs/{name}" for name in CBS_FILES]
        + [f"municipal/{name}" for name in MUNICIPAL_FILES]
        + [f"truth/{name}" for name in TRUTH_FILES]
    )
