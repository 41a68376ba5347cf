"""Linkage on the RIN in DuckDB: the registers restricted to the study's persons (`local`), the study
population, the linkage report and the chronic-condition prevalence (`population`)."""
