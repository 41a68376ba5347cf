"""The synthetic snapshot: CBS microdata and municipal extracts in the real layout, with a planted
causal effect (design.py) and published marginals (config/published.yaml)."""
