"""UJIVE and JIVE1: the hat-diagonal formulas against brute-force leave-one-out refits."""

import numpy as np
import pytest
from wwvw.estimation import jackknife
from wwvw.estimation.fixed_effects import make_controls
from wwvw.estimation.matrices import (
    covariate_matrix,
    department_dummies,
    group_codes,
    outcome_vector,
)
from wwvw.estimation.simulate import simulate_cohort
from wwvw.synthetic.design import Design

SMALL_DESIGN = Design(locations=("Noord", "Zuid"), caseworkers_per_location=4)
TREATMENTS = ("matching", "activering")


@pytest.fixture(scope="module", params=[False, True], ids=["cells", "cells+covariates"])
def problem(request):
    cohort = simulate_cohort(7, n_clients=200, design=SMALL_DESIGN)
    covariates = covariate_matrix(cohort)[0] if request.param else None
    controls = make_controls(group_codes(cohort["cell"])[0], covariates)
    return {
        "y": outcome_vector(cohort),
        "x": department_dummies(cohort, TREATMENTS),
        "caseworkers": group_codes(cohort["caseworker"])[0],
        "controls": controls,
    }


def refit_without_each_row(targets: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Brute force: for every i, least squares on the other rows, prediction at row i."""
    out = np.empty_like(targets)
    for i in range(design.shape[0]):
        keep = np.arange(design.shape[0]) != i
        coef, *_ = np.linalg.lstsq(design[keep], targets[keep], rcond=None)
        out[i] = design[i] @ coef
    return out


def brute_force_ujive_instrument(problem) -> np.ndarray:
    full, controls_only = jackknife.jackknife_designs(problem["caseworkers"], problem["controls"])
    return refit_without_each_row(problem["x"], full) - refit_without_each_row(
        problem["x"], controls_only
    )


def test_leave_one_out_fitted_values_equal_refits(problem):
    full, _ = jackknife.jackknife_designs(problem["caseworkers"], problem["controls"])
    np.testing.assert_allclose(
        jackknife.leave_one_out_fitted(problem["x"], full),
        refit_without_each_row(problem["x"], full),
        rtol=0,
        atol=1e-10,
    )


def test_ujive_equals_brute_force_refits_of_both_first_stages(problem):
    constructed = brute_force_ujive_instrument(problem)
    np.testing.assert_allclose(
        jackknife.ujive_instrument(problem["x"], problem["caseworkers"], problem["controls"]),
        constructed,
        rtol=0,
        atol=1e-10,
    )
    brute_coef = np.linalg.solve(constructed.T @ problem["x"], constructed.T @ problem["y"])
    fit = jackknife.ujive(
        problem["y"], problem["x"], problem["caseworkers"], problem["controls"], TREATMENTS
    )
    np.testing.assert_allclose(fit.coef, brute_coef, rtol=0, atol=1e-10)


def test_ujive_single_treatment_is_the_ratio_formula(problem):
    x = problem["x"][:, :1]
    constructed = brute_force_ujive_instrument(problem)[:, :1]
    fit = jackknife.ujive(
        problem["y"], x, problem["caseworkers"], problem["controls"], TREATMENTS[:1]
    )
    ratio = (constructed[:, 0] @ problem["y"]) / (constructed[:, 0] @ x[:, 0])
    np.testing.assert_allclose(fit.coef[0], ratio, rtol=1e-9)


def test_jive1_equals_brute_force_refit_with_controls_partialled(problem):
    full, _ = jackknife.jackknife_designs(problem["caseworkers"], problem["controls"])
    controls = problem["controls"]
    constructed = controls.residualise(refit_without_each_row(problem["x"], full))
    x_r, y_r = controls.residualise(problem["x"]), controls.residualise(problem["y"])
    brute_coef = np.linalg.solve(constructed.T @ x_r, constructed.T @ y_r)
    fit = jackknife.jive1(problem["y"], problem["x"], problem["caseworkers"], controls, TREATMENTS)
    np.testing.assert_allclose(fit.coef, brute_coef, rtol=0, atol=1e-10)


def test_ujive_scores_use_residuals_net_of_the_controls(problem):
    """Sandwich scores are Xhat_i [M_W(y - X b)]_i (manyiv), not Xhat_i (y - X b)_i."""
    controls = problem["controls"]
    fit = jackknife.ujive(problem["y"], problem["x"], problem["caseworkers"], controls, TREATMENTS)
    residuals = controls.residualise(problem["y"] - problem["x"] @ fit.coef)
    within_cell_sums = np.bincount(controls.cells, weights=residuals)
    np.testing.assert_allclose(within_cell_sums, 0, atol=1e-10)
    constructed = jackknife.ujive_instrument(problem["x"], problem["caseworkers"], controls)
    np.testing.assert_allclose(fit.scores, constructed * residuals[:, None], atol=1e-12)


def test_a_caseworker_with_one_client_makes_leave_one_out_undefined():
    codes = np.array([0, 0, 0, 1, 1, 2])
    design = (codes[:, None] == np.arange(3)[None, :]).astype(float)
    with pytest.raises(ValueError, match="leverage 1") as raised:
        jackknife.leave_one_out_fitted(np.arange(6.0), design)
    # the message names the causes, not the caseload setting (which cannot fix a one-client cell)
    message = str(raised.value)
    assert "assignment cell with a single client" in message
    assert "covariate" in message and "minimum caseload" not in message


@pytest.mark.parametrize("covariates", [False, True])
def test_the_structured_projection_equals_the_dense_design(covariates):
    """loo_fits (no n x J matrix) against the pivoted QR of the dense [Z, W] on 6,000 clients."""
    cohort = simulate_cohort(11, n_clients=6000)
    controls = make_controls(
        group_codes(cohort["cell"])[0], covariate_matrix(cohort)[0] if covariates else None
    )
    codes = group_codes(cohort["caseworker"])[0]
    x = department_dummies(cohort, TREATMENTS)
    full, controls_only = jackknife.jackknife_designs(codes, controls)
    loo_zw, loo_w = jackknife.loo_fits(x, codes, controls)
    np.testing.assert_allclose(loo_zw, jackknife.leave_one_out_fitted(x, full), atol=1e-10)
    np.testing.assert_allclose(loo_w, jackknife.leave_one_out_fitted(x, controls_only), atol=1e-10)
    basis = jackknife.orthonormal_basis(full)
    np.testing.assert_allclose(
        jackknife.controls_leverage(controls)
        + jackknife.instrument_projection(codes, controls).leverage,
        jackknife.hat_diagonal(basis),
        atol=1e-10,
    )


def test_a_one_client_caseworker_stops_the_structured_fit_too():
    cells = np.zeros(7, dtype=np.int64)
    codes = np.array([0, 0, 0, 1, 1, 1, 2])  # caseworker 2 has one client
    controls = make_controls(cells)
    with pytest.raises(ValueError, match="leverage 1"):
        jackknife.loo_fits(np.arange(7.0), codes, controls)
