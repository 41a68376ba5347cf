# Provenance and the report.


rule input_manifest:
    """Every file of the snapshot folder: name, version, size, SHA-256, what it is used for."""
    input:
        cbs=lambda wc: [f"{DATA_DIR}/cbs/{name}" for name in cbs_file_names()],
        municipal=[f"{DATA_DIR}/municipal/{name}.csv" for name in MUNICIPAL.values()],
        code=code("input_manifest.py"),
    output:
        f"{RESULTS}/qc/input_files.json",
    log:
        log_path("input_manifest"),
    benchmark:
        benchmark_path("input_manifest")
    conda:
        "../../envs/pipeline.yaml"
    params:
        data_dir=lambda wc, input: str(Path(input.municipal[0]).parent.parent),
        chosen=lambda wc: chosen_cbs_files(),
    script:
        "../../scripts/input_manifest.py"


rule provenance:
    """Provenance: input files (versions, sizes, hashes), resolved config, packages, code, runtimes."""
    input:
        results=stage_targets(),
        inputs=f"{RESULTS}/qc/input_files.json",
        lock="uv.lock",
        code=code("provenance.py"),
    output:
        f"{RESULTS}/provenance.json",
    log:
        log_path("provenance"),
    benchmark:
        benchmark_path("provenance")
    conda:
        "../../envs/pipeline.yaml"
    params:
        config=config,
        chosen=lambda wc: chosen_cbs_files(),
        root=workflow.basedir,
        benchmarks=f"{RESULTS}/benchmarks",
    script:
        "../../scripts/provenance.py"


rule compare_snapshots:
    """Compare two snapshots' inputs, person counts and results (both must have been run)."""
    input:
        base="results/{base}/provenance.json",
        other="results/{other}/provenance.json",
        code=code("compare_snapshots.py"),
    output:
        "results/compare/{base}_vs_{other}.md",
    log:
        "results/compare/logs/{base}_vs_{other}.log",
    benchmark:
        "results/compare/benchmarks/{base}_vs_{other}.tsv"
    wildcard_constraints:
        base="[A-Za-z0-9][A-Za-z0-9._-]*",
        other="[A-Za-z0-9][A-Za-z0-9._-]*",
    conda:
        "../../envs/pipeline.yaml"
    params:
        tables={
            "cohort/flow.csv": ["step"],
            "tables/table2.csv": ["department"],
            "qc/linkage.csv": ["source"],
            "estimates/estimates.csv": [
                "model",
                "estimator",
                "specification",
                "treatment",
                "regressor",
                "subgroup",
                "se_type",
            ],
        },
    script:
        "../../scripts/compare_snapshots.py"


rule report_html:
    """The report for the municipality in one language (report.en.html, report.nl.html): one
    self-contained HTML file, in plain language."""
    input:
        tables=list(outputs.safe_tables(RESULTS).values()),
        checks=outputs.safe_checks(RESULTS),
        figures=[
            f"{RESULTS}/figures/{{language}}/{name}.svg" for name in FIGURE_SOURCES
        ],
        provenance=f"{RESULTS}/provenance.json",
        code=code("report_html.py"),
    output:
        f"{RESULTS}/report.{{language}}.html",
    log:
        log_path("report_html", "_{language}"),
    benchmark:
        benchmark_path("report_html", "_{language}")
    wildcard_constraints:
        language="|".join(LANGUAGES),
    conda:
        "../../envs/pipeline.yaml"
    params:
        names=list(outputs.safe_tables(RESULTS)),
        language=lambda wc: wc.language,
        snapshot=SNAPSHOT,
        disclosure=config_keys("disclosure", THRESHOLD_KEYS),
    script:
        "../../scripts/report_html.py"


rule report_default:
    """report.html: the report in the language of config figures.language."""
    input:
        f"{RESULTS}/report.{config['figures']['language']}.html",
    output:
        report(
            f"{RESULTS}/report.html", caption="../report/report.rst", category="Report"
        ),
    log:
        log_path("report_default"),
    benchmark:
        benchmark_path("report_default")
    localrule: True
    script:
        "../../scripts/report_default.py"


# Registered after `provenance`, which the report reads: provenance does not wait for the report.
register_targets(
    "report",
    [
        f"{RESULTS}/report.html",
        *(f"{RESULTS}/report.{lang}.html" for lang in LANGUAGES),
    ],
)
