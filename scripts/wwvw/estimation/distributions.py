"""The few distribution functions the estimators need, from scipy.special.

`scipy.stats` takes 2 to 5 s to import on the 2-core machines the pipeline runs on (it pulls in
every distribution, scipy.optimize, scipy.sparse and array-API shims); every Snakemake job is a
fresh process, and a dozen jobs paid it only to call norm.sf or chi2.sf. These are the same
special functions scipy.stats evaluates (tests/test_distributions.py compares them).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_cdf(x):
    return special.ndtr(x)


def norm_sf(x):
    return special.ndtr(np.negative(x))


def norm_isf(q):
    """x with P(N(0,1) > x) = q."""
    return -special.ndtri(q)


def chi2_sf(x, df):
    return special.chdtrc(df, x)


def chi2_ppf(p, df):
    """x with P(chi2_df <= x) = p."""
    return special.chdtri(df, 1 - np.asarray(p, dtype=float))


def f_sf(x, dfn, dfd):
    return special.fdtrc(dfn, dfd, x)


def ncx2_ppf(p, df, nc):
    """x with P(noncentral chi2_df(nc) <= x) = p."""
    return special.chndtrix(p, df, nc)
