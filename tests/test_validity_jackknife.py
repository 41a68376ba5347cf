"""The fast UJIVE / JIVE1 of the validity package equal the estimation library's."""

import numpy as np
import pytest
from wwvw.estimation.jackknife import jive1, ujive
from wwvw.estimation.simulate import simulate_cohort
from wwvw.estimation.specifications import Specification, prepare_sample
from wwvw.synthetic.design import Design
from wwvw.validity.jackknife import fast_jive1, fast_ujive, orthonormal_columns

NESTED = Design(
    locations=tuple(f"L{k}" for k in range(20)), caseworkers_per_location=5, active_share=1.0
)


@pytest.mark.parametrize(
    "kwargs",
    [{"seed": 3}, {"seed": 4, "n_clients": 800, "design": NESTED, "intake_quarters": 1}],
    ids=["default", "nested_small_cells"],
)
@pytest.mark.parametrize("pair", [(ujive, fast_ujive), (jive1, fast_jive1)], ids=["ujive", "jive1"])
def test_fast_jackknife_equals_the_library(kwargs, pair):
    cohort = simulate_cohort(**kwargs)
    spec = Specification.from_mapping({"name": "x", "treatments": ["matching", "activering"]})
    sample = prepare_sample(cohort, spec)
    args = (sample.outcome, sample.treatments, sample.caseworkers, sample.controls, ("m", "a"))
    library, fast = pair[0](*args), pair[1](*args)
    np.testing.assert_allclose(fast.coef, library.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.scores, library.scores, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(fast.bread, library.bread, rtol=1e-7, atol=1e-12)


def test_orthonormal_columns_spans_the_matrix_and_drops_collinear_columns():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 4))
    matrix = np.column_stack([a, a[:, 0] + a[:, 1]])
    basis = orthonormal_columns(matrix)
    assert basis.shape == (200, 4)
    np.testing.assert_allclose(basis.T @ basis, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(basis @ (basis.T @ matrix), matrix, atol=1e-10)
