"""Rule `report_default`: report.html, the report in the language of config figures.language."""

import shutil

if __name__ == "__main__":
    shutil.copyfile(snakemake.input[0], snakemake.output[0])  # noqa: F821
