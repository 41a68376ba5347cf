"""Settings of the design checks taken from the estimation specifications (for the rule files)."""

from __future__ import annotations

from collections.abc import Mapping

from wwvw.estimation.specifications import Specification, headline_specifications


def headline_specification(specifications: Mapping[str, Mapping]) -> Mapping:
    """The specification whose UJIVE row is the headline (name -> specification mapping)."""
    specs = [Specification.from_mapping(s) for s in specifications.values()]
    return specifications[headline_specifications(specs)["matching"]]


def sample_settings(specification: Mapping) -> dict:
    """Instruments, minimum caseload and covariates of the checks: those of the headline
    (the keyword arguments of `wwvw.validity.samples.build_sample`)."""
    spec = Specification.from_mapping(specification)
    return {
        "instruments": spec.instruments,
        "min_caseload": spec.min_caseload,
        "covariates": spec.covariates,
        "split_seed": spec.split_seed,
    }
