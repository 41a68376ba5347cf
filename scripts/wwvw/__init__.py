"""Wat werkt voor wie: the caseworker-leniency IV workflow's Python code (one module per stage)."""
