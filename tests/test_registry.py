"""One registry of characteristics: every consumer reads it, and the files that cannot import it
(the config schema, the published numbers) agree with it."""

import polars as pl
import yaml
from conftest import ROOT, load_yaml
from wwvw.cohort import registry
from wwvw.cohort.tables import TABLE1_CHARACTERISTICS
from wwvw.estimation.matrices import BOOLEAN_COVARIATES, CATEGORICAL_COVARIATES
from wwvw.present.figures import CHRONIC_LEVELS, LEVEL_NAMES
from wwvw.synthetic.people import CHARACTERISTICS as GENERATED
from wwvw.validity.samples import CHARACTERISTICS, LEVEL_ORDER


def test_every_entry_is_complete():
    for c in registry.REGISTRY:
        assert len(set(c.levels)) == len(c.levels)
        assert set(c.label) == set(registry.LANGUAGES)
        if c.boolean:
            assert c.levels == ("yes", "no")
        else:
            assert c.reference in c.levels
            assert set(c.check_levels) <= set(c.levels)
        for language in registry.LANGUAGES:
            named = c.level_labels.get(language, {})
            assert set(named) <= set(c.levels)


def test_the_consumers_read_the_registry():
    names = [c.name for c in registry.REGISTRY]
    assert list(TABLE1_CHARACTERISTICS) == names == list(CHARACTERISTICS) == list(GENERATED)
    assert list(CATEGORICAL_COVARIATES) + list(BOOLEAN_COVARIATES) == names
    assert all(CATEGORICAL_COVARIATES[c.name] == c.reference for c in registry.CATEGORICAL)
    assert list(LEVEL_ORDER) == [c.name for c in registry.CATEGORICAL]
    for language in registry.LANGUAGES:
        assert all(LEVEL_NAMES[language][c.name] == c.label[language] for c in registry.REGISTRY)
        assert CHRONIC_LEVELS[language] == registry.BY_NAME["chronic"].level_labels[language]


def test_the_schema_and_the_published_numbers_name_the_registry():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    subgroups = schema["properties"]["validity"]["properties"]["subgroups"]
    assert subgroups["items"]["enum"] == list(registry.NAMES)
    published = load_yaml("config/published.yaml")["study_population"]["table1"]
    assert list(published) == list(registry.NAMES)
    for name, levels in published.items():
        assert set(levels) <= set(registry.BY_NAME[name].levels)


def test_the_cohort_has_every_characteristic_with_its_levels(results):
    cohort = pl.read_parquet(results / "cohort" / "cohort.parquet")
    for c in registry.REGISTRY:
        if c.boolean:
            assert cohort[c.name].dtype == pl.Boolean
        else:
            assert set(cohort[c.name].cast(pl.String).unique()) <= set(c.levels)
