# Paths and input functions shared by every stage. Scripts are importable from scripts/ (package wwvw).
import sys

import yaml

from snakemake.exceptions import WorkflowError
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from wwvw.core.code import code_files  # noqa: E402
from wwvw.ingest.tables import cbs_tables, yearly  # noqa: E402
from wwvw.synthetic.layout import CBS_FILES, snapshot_files  # noqa: E402
from wwvw.validity.settings import headline_specification, sample_settings  # noqa: E402

SYNTHETIC_DIR = "resources/synthetic"
DATA_DIR = config["data_dir"].rstrip("/")
SNAPSHOT = config["snapshot"]
RESULTS = f"results/{SNAPSHOT}"
# Priority of the jobs on the way from the inputs to the cohort (cleaning, linkage, covariates,
# assembly): on few cores they go before side tables (linkage report, prevalence), which only
# the descriptive tables and the report need, so estimation starts sooner.
COHORT_PATH_PRIORITY = 1
# ... except the linkage report, the longest data job at national scale (it counts every row of
# every register): started first, it runs beside the cohort chain instead of alone at the end.
LONGEST_SIDE_JOB_PRIORITY = 2
# ... and at a lower CPU priority (nice), so that it takes the cores the cohort chain leaves idle
# instead of sharing them equally with that chain (national scale, 2 cores: the chain waits less)
SIDE_JOB_NICENESS = 10
# memory_limit (and mem_mb resource) of every DuckDB job
DUCKDB_MEMORY_MB = config["duckdb"]["memory_mb"]


def code(script: str) -> list[str]:
    """The package modules a rule's script (under scripts/) imports, directly or through other
    modules: declared as the rule's input, so that editing one reruns exactly the rules that run
    it, and what follows (Snakemake itself watches only the script file)."""
    return list(code_files(Path("scripts"), Path("scripts") / script))


def config_keys(section: str, keys) -> dict:
    """Only the keys of a config section that a rule uses, as PyPSA-Eur's config_provider does;
    a change to another key of the section does not rerun the rule. The keys are named where
    they are read (e.g. wwvw.link.population.WINDOW_KEYS)."""
    return {key: config[section][key] for key in keys}


def uses_synthetic_data() -> bool:
    return (
        Path(DATA_DIR).resolve() == (Path(workflow.basedir) / SYNTHETIC_DIR).resolve()
    )


def synthetic_outputs() -> list[str]:
    return [f"{SYNTHETIC_DIR}/{name}" for name in snapshot_files()]


CBS_TABLES = {t.key: t for t in cbs_tables(config["cohort"])}
SPECIFICATIONS = {
    spec["name"]: spec
    for spec in yaml.safe_load(
        Path(config["estimation"]["specifications"]).read_text()
    )["specifications"]
}
# the headline specification, chosen once: the design checks and the leniency figure use its
# instruments, minimum caseload and covariates
HEADLINE_SPECIFICATION = headline_specification(SPECIFICATIONS)
HEADLINE_SAMPLE = sample_settings(HEADLINE_SPECIFICATION)
MUNICIPAL = {
    "benefits": "uitkeringen",
    "intakes": "werkintake",
    "interventions": "interventies",
}


def cbs_file_names() -> list[str]:
    """Files in data_dir/cbs: known in advance for the synthetic snapshot, listed otherwise."""
    if uses_synthetic_data():
        return list(CBS_FILES)
    folder = Path(DATA_DIR) / "cbs"
    if not folder.is_dir():
        raise WorkflowError(
            f"data_dir {DATA_DIR}: no cbs/ folder (see the input contract)"
        )
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def chosen_cbs_files() -> dict[str, str]:
    """Table key -> file in data_dir/cbs: highest version, VRL ignored, config pins respected."""
    from wwvw.ingest.cbs import InputError, Wanted, choose_files

    wanted = [Wanted(t.key, t.stem, t.year) for t in CBS_TABLES.values()]
    try:
        return choose_files(
            cbs_file_names(),
            wanted,
            config["cbs"]["pins"],
            config["cbs"]["missing_years"],
        )
    except InputError as error:
        raise WorkflowError(f"data_dir {DATA_DIR}/cbs: {error}") from None


def raw(key: str) -> str:
    return f"{RESULTS}/raw/{key}.parquet"


def restricted(key: str) -> str:
    """A national register restricted to the study's persons (rule local_registers)."""
    return f"{RESULTS}/local/{key}.parquet"


def raw_tables(*keys: str, path=raw) -> dict[str, str]:
    """Named inputs of the scripts, per yearly table of a kind or per single table; `path` gives
    the file of a table key (raw: as ingested, restricted: to the study's persons).
    """
    out = {}
    for key in keys:
        kinds = yearly(list(CBS_TABLES.values()), key)
        out.update(
            {f"{key}_{year}": path(k) for year, k in kinds.items()}
            if kinds
            else {key: path(key)}
        )
    return out


def restricted_tables(*keys: str) -> dict[str, str]:
    return raw_tables(*keys, path=restricted)


def clean(name: str) -> str:
    return f"{RESULTS}/clean/{MUNICIPAL[name]}.parquet"


def log_path(rule: str, suffix: str = "") -> str:
    return f"{RESULTS}/logs/{rule}{suffix}.log"


def benchmark_path(rule: str, suffix: str = "") -> str:
    return f"{RESULTS}/benchmarks/{rule}{suffix}.tsv"


# Each stage's .smk registers its final outputs here; `all` and provenance collect them.
STAGE_TARGETS: dict[str, list[str]] = {}


def register_targets(stage: str, paths: list[str]) -> None:
    STAGE_TARGETS[stage] = list(paths)


def stage_targets(*stages: str) -> list[str]:
    """Registered outputs of the given stages (all stages when none is named)."""
    chosen = stages or tuple(STAGE_TARGETS)
    return [path for stage in chosen for path in STAGE_TARGETS.get(stage, [])]


def default_targets() -> list[str]:
    targets = stage_targets() + [f"{RESULTS}/provenance.json"]
    if uses_synthetic_data():
        targets += synthetic_outputs()
    return targets
