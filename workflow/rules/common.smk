# Paths and input functions shared by every stage. Scripts are importable from scripts/ (package wwvw).
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))

from wwvw.synthetic.layout import snapshot_files  # noqa: E402

SYNTHETIC_DIR = "resources/synthetic"
DATA_DIR = config["data_dir"].rstrip("/")
SNAPSHOT = config["snapshot"]
RESULTS = f"results/{SNAPSHOT}"


def uses_synthetic_data() -> bool:
    return (
        Path(DATA_DIR).resolve() == (Path(workflow.basedir) / SYNTHETIC_DIR).resolve()
    )


def synthetic_outputs() -> list[str]:
    return [f"{SYNTHETIC_DIR}/{name}" for name in snapshot_files()]


def default_targets() -> list[str]:
    targets = []
    if uses_synthetic_data():
        targets += synthetic_outputs()
    return targets
