"""Malformed deliveries for tests/test_bad_input.py (see build.py)."""
