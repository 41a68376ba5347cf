"""The analysis files: the cohort selection (`selection`), covariates and outcome at the anchor date
(`characteristics`), and the descriptive tables of population and cohort (`tables`)."""
