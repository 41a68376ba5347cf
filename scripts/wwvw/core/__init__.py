"""What every stage shares: the DuckDB connection, delivery errors, job logs, and the code a rule
runs (so that Snakemake reruns a rule when that code changes)."""
