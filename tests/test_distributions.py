"""wwvw.estimation.distributions (scipy.special) agrees with scipy.stats, which it stands in for."""

import numpy as np
import pytest
from scipy import stats
from wwvw.estimation import distributions as dist

X = np.array([-3.0, -0.5, 0.0, 1.2, 4.0])
P = np.array([0.001, 0.025, 0.5, 0.95, 0.999])


def test_normal_functions_match_scipy_stats():
    np.testing.assert_allclose(dist.norm_cdf(X), stats.norm.cdf(X), rtol=1e-12)
    np.testing.assert_allclose(dist.norm_sf(X), stats.norm.sf(X), rtol=1e-12)
    np.testing.assert_allclose(dist.norm_isf(P), stats.norm.isf(P), rtol=1e-12)


@pytest.mark.parametrize("df", [1, 2, 7, 54])
def test_chi_square_and_f_match_scipy_stats(df):
    x = np.abs(X) * 3 + 0.1
    np.testing.assert_allclose(dist.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-10)
    np.testing.assert_allclose(dist.chi2_ppf(P, df), stats.chi2.ppf(P, df), rtol=1e-10)
    np.testing.assert_allclose(dist.f_sf(x, df, 59), stats.f.sf(x, df, 59), rtol=1e-10)
    np.testing.assert_allclose(dist.ncx2_ppf(P, df, 2.5), stats.ncx2.ppf(P, df, 2.5), rtol=1e-8)
