"""Monthly main source of income (SECM codes) per person, and where each person lives.

A timeline is a (persons x 108 months) uint8 array of SECM codes; SECMBUS spells are its runs.
Study-population timelines are built segment by segment so that the reference month, the work
history and the outcome are exactly what people.py drew, with the traps real registers hold:
short jobs, jobs that start too late to be observed for three months, family work (SECM 15, not
paid work), work spells split by a change of code, earlier bijstand episodes.
"""

from __future__ import annotations

import numpy as np

from .calendar import N_MONTHS

WORK = (11, 12, 13, 14)
BIJSTAND = 22


def study_timelines(
    rng: np.random.Generator,
    ref: np.ndarray,
    stock: np.ndarray,
    work_months: np.ndarray,
    outcome: np.ndarray,
    start_offset: np.ndarray,
    window: np.ndarray,
    study_start: int,
) -> np.ndarray:
    """SECM timelines of the study population; see the module docstring."""
    n = ref.size
    T = np.full((n, N_MONTHS), 32, dtype=np.uint8)
    u = rng.random((n, 12))
    for i in range(n):
        r, k, L = int(ref[i]), int(work_months[i]), int(window[i])
        row = T[i]
        w0 = max(r - 48, 0)
        if u[i, 0] < 0.4:
            row[:w0] = 11  # work long ago: outside the work-history window
        gap = int(u[i, 1] * 4)
        if stock[i]:
            longest = 60 if k == 0 else max(1, 48 - k - gap)
            b = max(r - 1 - int(u[i, 2] * longest), 0)
        else:
            b = r
            if k == 0 and u[i, 3] < 0.25:
                end = min(r - 3, study_start - 1)
                length = 3 + int(u[i, 4] * 10)
                if end - length >= w0:
                    row[end - length : end] = BIJSTAND  # an earlier, unrelated bijstand episode
        row[b:r] = BIJSTAND
        row[max(b - gap, 0) : b] = 21
        if k:
            row[b - gap - k : b - gap] = 11
        if outcome[i]:
            w = r + int(start_offset[i])
            d = 3 + int(rng.geometric(1 / 12)) - 1
            row[r:w] = BIJSTAND
            row[w : w + d] = 11
            if u[i, 5] < 0.2 and d <= 5:
                row[w + 1 + int(u[i, 6] * 2) : w + d] = (
                    13  # same work, a new spell with another code
                )
            after = w + d
            if after < N_MONTHS:
                row[after:] = (BIJSTAND, 21, 11, 32)[int(u[i, 7] * 4)]
            t = w - r
            if t >= 5 and u[i, 8] < 0.08:
                row[r + 1 : r + 2 + int(u[i, 9] * 2)] = 11  # a short job before the real one
        else:
            x = r + 1 + int(rng.geometric(1 / 30))
            row[r : min(x, N_MONTHS)] = BIJSTAND
            if x < N_MONTHS:
                if x - r > L and u[i, 10] < 0.5:
                    row[x:] = 11  # work, but too late to count
                else:
                    row[x:] = (24, 32, 21)[int(u[i, 11] * 3)]
            room = min(L, x - r - 3)
            if room >= 1 and u[i, 8] < 0.15:
                a = r + 1 + int(u[i, 9] * room)
                row[a : a + 1 + int(u[i, 6] * 2)] = 11  # a short job of one or two months
            elif room >= 5 and u[i, 8] > 0.98:
                a = r + 1 + int(u[i, 9] * (room - 4))
                row[a : a + 4] = 15  # family worker: not paid work
    return T


def markov_timelines(
    rng: np.random.Generator, n: int, states: np.ndarray, weights: np.ndarray, switch: float = 0.05
) -> np.ndarray:
    """Timelines that switch each month with probability `switch` to a state drawn from `weights`.

    `weights` is (n x len(states)): each person has their own state distribution.
    """
    cum = np.cumsum(weights, axis=1)
    cum /= cum[:, -1:]

    def draw():
        return states[(rng.random((n, 1)) > cum).sum(axis=1)]

    T = np.empty((n, N_MONTHS), dtype=np.uint8)
    T[:, 0] = draw()
    for m in range(1, N_MONTHS):
        move = rng.random(n) < switch
        T[:, m] = np.where(move, draw(), T[:, m - 1])
    return T


def runs(T: np.ndarray):
    """Spells of a timeline array: (person, first month, last month, code), in person-month order."""
    n, months = T.shape
    change = np.ones((n, months), dtype=bool)
    change[:, 1:] = T[:, 1:] != T[:, :-1]
    person, start = np.nonzero(change)
    flat = person * months + start
    end_flat = np.append(flat[1:], n * months) - 1
    last_of_person = np.append(person[1:] != person[:-1], True)
    end = np.where(last_of_person, months - 1, end_flat - person * months)
    return person, start, end, T[person, start]


def qualifying_work(
    T: np.ndarray,
    ref: np.ndarray,
    min_months: int,
    followup_months: int,
    followup_end: int,
) -> np.ndarray:
    """Months from ref to the first work run of at least `min_months` observed by followup_end.

    -1 where there is none. The independent check of the outcome that the generator draws: a run
    of consecutive months with SECM in 11-14 (whatever the spells), starting 1..followup_months
    after ref, with its first `min_months` months no later than followup_end.
    """
    working = np.isin(T, WORK)
    n = T.shape[0]
    result = np.full(n, -1, dtype=np.int32)
    person, start, end, code = runs(working.astype(np.uint8))
    keep = code == 1
    person, start, end = person[keep], start[keep], end[keep]
    offset = start - ref[person]
    last_observed = np.minimum(end, followup_end)
    ok = (
        (offset >= 1)
        & (offset <= followup_months)
        & (last_observed - start + 1 >= min_months)
        & (start > 0)
    )
    person, offset = person[ok], offset[ok]
    first = np.unique(person, return_index=True)
    result[first[0]] = offset[first[1]]
    return result
