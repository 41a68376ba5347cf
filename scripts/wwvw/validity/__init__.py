"""Design checks of the caseworker-leniency IV: is assignment random, are the instruments valid and
monotone, who are the compliers, what works for whom, and do the estimators work at all.

Pure functions, cohort frame in and result frames out; the rule scripts scripts/validity_*.py and
scripts/monte_carlo.py only read files, call these and write files.

Modules
    samples         the estimation sample, propensities, controls and subgroups shared by all checks
    inference       cluster-robust covariances of fits on different subsets, Wald tests, rows
    jackknife       fast UJIVE / JIVE1 (same estimators as wwvw.estimation.jackknife)
    balance         random assignment: balance table, joint tests, within-cell permutation test
    monotonicity    first stages by subgroup and the reverse-sample test
    exclusion       Frandsen, Lefgren and Leslie (2023) test of exclusion and monotonicity
    multi_treatment Bhuller and Sigstad (2024) checks of 2SLS with several treatments
    compliers       complier shares and characteristics (Dahl, Kostol and Mogstad 2014)
    heterogeneity   IV effects by subgroup, equality tests, Romano-Wolf and sup-t bands (multiplier bootstrap)
    placebo         IV 'effects' on outcomes fixed before the intake
    monte_carlo     bias, RMSE and coverage of every estimator and interval on the planted design
    parallel        replications in spawned worker processes with one BLAS thread each
    settings        the checks' instruments, covariates and caseload: the headline specification's

Reading the results: with many caseworker-level restrictions (18 covariates, 60 caseworkers) the
analytic cluster-robust Wald tests over-reject, so the balance verdict rests on the permutation
p-values; the Monte Carlo shows that caseworker-clustered intervals under-cover in the planted
design (clients independent given their caseworker) while heteroskedasticity-robust ones do not.
"""
