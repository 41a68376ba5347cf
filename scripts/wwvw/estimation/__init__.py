"""Estimation library of the caseworker-leniency (judge) IV design: pure functions, frames in/out.

Modules
    matrices        cohort frame -> treatment, outcome and covariate arrays
    fixed_effects   partialling out cell fixed effects and covariates (FWL)
    instruments     leave-one-out and split-sample caseworker propensities, minimum caseload
    variance        moment fits and HC1 / CR1 sandwich variances
    linear          OLS, 2SLS (any number of endogenous regressors), Wald tests
    jackknife       UJIVE and JIVE1 with caseworker dummies (leave-one-out via hat diagonals)
    weak_iv         first-stage, effective and Sanderson-Windmeijer F; tF; Anderson-Rubin sets
    specifications  run_specifications(cohort, specs) -> (estimates, diagnostics)
    simulate        simulate_cohort(seed, ...) from the planted design, for tests / Monte Carlo

Importing the package imports none of its modules: a rule that needs one module (the disclosure
rules need `matrices`) depends on that module's code alone (wwvw.core.code).
"""
