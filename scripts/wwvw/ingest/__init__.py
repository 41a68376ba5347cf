"""Reading a delivery: which CBS tables (`tables`), their conversion (`cbs`), validation at the
boundary (`validation`), the municipal extracts (`municipal`), the identifier guard (`privacy`) and
the harmonisation of intervention free text (`interventions`)."""
