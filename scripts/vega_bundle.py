"""Rule `vega_bundle`: the Vega JavaScript the HTML figures inline, bundled once."""

import os
from pathlib import Path

from wwvw.core import logs
from wwvw.present.figures import javascript_bundle

if __name__ == "__main__":
    log = logs.setup(snakemake.log[0])  # noqa: F821
    os.nice(snakemake.params.niceness)  # noqa: F821
    bundle = javascript_bundle()
    Path(snakemake.output[0]).write_text(bundle, encoding="utf-8")  # noqa: F821
    log.info("Vega, Vega-Lite and vega-embed bundled: %d characters", len(bundle))
