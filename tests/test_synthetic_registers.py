"""The synthetic register builders: string columns for any block, also an empty one."""

import numpy as np
import polars as pl
import pytest
from wwvw.synthetic import registers
from wwvw.synthetic.calendar import N_MONTHS, text, ymd


@pytest.mark.parametrize("values", [[0, 7, -3, 20181231, 10**12], []])
def test_text_writes_integers_as_numpy_does(values):
    array = np.array(values, dtype=np.int64)
    assert text(array).tolist() == array.astype(str).tolist()


def test_text_refuses_what_is_not_an_integer():
    with pytest.raises(TypeError, match="integers, not bool"):
        text(np.array([True]))


def test_ymd_gives_cbs_date_strings():
    assert ymd(np.array([0, 107]), np.array([1, 31])).tolist() == ["20100101", "20181231"]


def blocks(n):
    rng = np.random.default_rng(1)
    rins = registers.rin(np.arange(n))
    timeline = rng.choice(np.array([11, 22, 31]), size=(n, N_MONTHS))
    ones = np.ones(n, dtype=bool)
    yield (
        "persons",
        registers.gba_person(
            rng, rins, np.full(n, "man"), np.full(n, 1980), np.full(n, 3), np.full(n, "dutch")
        ),
    )
    yield "secm", registers.secm_spells(rng, rins, timeline)
    yield "secm_older", registers.secm_spells(rng, rins, timeline, older_version=True)
    spells, objects = registers.address_spells(
        rng,
        rins,
        0,
        [np.full(n, "GM0599"), np.full(n, "GM0363")],
        [(np.full(n, 40), np.full(n, 3))],
    )
    yield "addresses", spells
    yield "objects", objects
    yield "households", registers.household_spells(rng, rins, np.full(n, 60), ones, ~ones)
    yield "education", registers.education_rows(rng, rins, np.full(n, "high"), ones)
    yield "debts", registers.presence_rows(rins, ones)
    yield (
        "medicines",
        registers.medicine_rows(
            rng, rins, np.ones((n, 2), dtype=bool), [["N06A"], ["A10A", "A10B"]]
        ),
    )


@pytest.mark.parametrize("n", [0, 5])
def test_every_register_block_is_all_strings(n):
    for name, frame in blocks(n):
        assert set(frame.schema.values()) == {pl.String}, name
        assert (frame.height == 0) == (n == 0), name


def test_codes_keep_their_padding():
    frames = dict(blocks(5))
    assert frames["persons"]["GBAGEBOORTEMAAND"].unique().to_list() == ["03"]
    for code in ("TYPHH", "PLHH"):  # one digit, with a leading space
        assert frames["households"][code].str.len_chars().unique().to_list() == [2]
    assert frames["secm"]["SECM"].is_in(["11", "22", "31"]).all()
