"""Golden tests: OLS and 2SLS with partialled-out cell fixed effects against linearmodels/pyfixest.

Small-sample corrections are aligned by construction: linearmodels with debiased=True uses
n/(n-k) (robust) and G/(G-1)(n-1)/(n-k) (clustered) with k counting the explicit cell dummies,
and pyfixest with ssc(k_fixef="full") counts the absorbed cell effects in k; ours do the same.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from wwvw.estimation.fixed_effects import make_controls
from wwvw.estimation.matrices import covariate_matrix, group_codes
from wwvw.estimation.simulate import simulate_cohort
from wwvw.estimation.specifications import (
    Specification,
    fit_models,
    prepare_sample,
)
from wwvw.estimation.variance import sandwich_vcov

CLUSTERED = "cluster:caseworker"


def sample_and_fits(cohort, treatments, covariates=True):
    spec = Specification.from_mapping(
        {"name": "golden", "treatments": treatments, "covariates": covariates}
    )
    sample = prepare_sample(cohort, spec)
    fits = {(f.model, f.estimator): f.fit for f in fit_models(sample, spec)}
    return sample, fits


def standard_errors(fit, clusters):
    return np.sqrt(np.diag(sandwich_vcov(fit, clusters)))


def explicit_controls(sample) -> pd.DataFrame:
    """Cell dummies (all levels, no constant) and covariates as columns, for linearmodels."""
    cells = pd.get_dummies(sample.frame["cell"].to_pandas(), prefix="cell", dtype=float)
    covariates, _ = covariate_matrix(sample.frame)
    named = pd.DataFrame(covariates, columns=[f"cov{k}" for k in range(covariates.shape[1])])
    return pd.concat([cells, named], axis=1)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(3, n_clients=3000)


@pytest.fixture(scope="module")
def joint(cohort):
    return sample_and_fits(cohort, ["matching", "activering"])


def linearmodels_fit(sample, endogenous: bool, cov_type: str, **kwargs):
    from linearmodels.iv import IV2SLS

    names = ["matching", "activering"]
    treatments = pd.DataFrame(sample.treatments, columns=names)
    exog = explicit_controls(sample)
    if endogenous:
        instruments = pd.DataFrame(sample.propensities, columns=["z_matching", "z_activering"])
        model = IV2SLS(pd.Series(sample.outcome, name="y"), exog, treatments, instruments)
    else:
        exog = pd.concat([treatments, exog], axis=1)
        model = IV2SLS(pd.Series(sample.outcome, name="y"), exog, None, None)
    result = model.fit(cov_type=cov_type, debiased=True, **kwargs)
    return result.params[names].to_numpy(), result.std_errors[names].to_numpy()


@pytest.mark.parametrize("se_type", ["hetero", CLUSTERED])
def test_two_endogenous_2sls_matches_linearmodels(joint, se_type):
    sample, fits = joint
    clusters = sample.clusters[se_type]
    kwargs = {"cov_type": "robust"}
    if clusters is not None:
        kwargs = {"cov_type": "clustered", "clusters": pd.Series(clusters)}
    coef, se = linearmodels_fit(sample, endogenous=True, **kwargs)
    ours = fits[("iv", "2sls")]
    np.testing.assert_allclose(ours.coef, coef, rtol=0, atol=1e-8)
    np.testing.assert_allclose(standard_errors(ours, clusters), se, rtol=1e-6)


def test_ols_matches_linearmodels(joint):
    sample, fits = joint
    clusters = sample.clusters[CLUSTERED]
    coef, se = linearmodels_fit(
        sample, endogenous=False, cov_type="clustered", clusters=pd.Series(clusters)
    )
    np.testing.assert_allclose(fits[("ols", "ols")].coef, coef, rtol=0, atol=1e-8)
    np.testing.assert_allclose(standard_errors(fits[("ols", "ols")], clusters), se, rtol=1e-6)


@pytest.mark.parametrize("covariates", [False, True])
def test_single_instrument_2sls_matches_pyfixest(cohort, covariates):
    import pyfixest as pf

    sample, fits = sample_and_fits(cohort, ["matching"], covariates)
    data = sample.frame.select("cell", "caseworker", "propensity_matching").to_pandas()
    data["y"], data["matching"] = sample.outcome, sample.treatments[:, 0]
    controls = explicit_controls(sample).filter(like="cov")
    data = pd.concat([data, controls], axis=1)
    exogenous = " + ".join(controls.columns) if covariates else "1"
    formula = f"y ~ {exogenous} | cell | matching ~ propensity_matching"
    ssc = pf.ssc(k_adj=True, k_fixef="full", G_adj=True)
    ours = fits[("iv", "2sls")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clustered = pf.feols(formula, data=data, vcov={"CRV1": "caseworker"}, ssc=ssc)
        robust = pf.feols(formula, data=data, vcov="HC1", ssc=ssc)
    np.testing.assert_allclose(ours.coef[0], clustered.coef()["matching"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        standard_errors(ours, sample.clusters[CLUSTERED])[0], clustered.se()["matching"], rtol=1e-6
    )
    np.testing.assert_allclose(standard_errors(ours, None)[0], robust.se()["matching"], rtol=1e-6)


def test_clustering_by_client_equals_heteroskedasticity_robust(joint):
    sample, fits = joint
    for fit in fits.values():
        np.testing.assert_allclose(
            standard_errors(fit, sample.clusters["cluster:client"]),
            standard_errors(fit, None),
            rtol=1e-10,
        )


def test_partialling_out_equals_residuals_on_explicit_dummies(joint):
    sample, _ = joint
    design = explicit_controls(sample).to_numpy()
    coef, *_ = np.linalg.lstsq(design, sample.outcome, rcond=None)
    np.testing.assert_allclose(
        sample.partialled["y"], sample.outcome - design @ coef, rtol=0, atol=1e-10
    )
    covariates, _ = covariate_matrix(sample.frame)
    controls = make_controls(group_codes(sample.frame["cell"])[0], covariates)
    assert controls.n_absorbed == np.linalg.matrix_rank(design)
