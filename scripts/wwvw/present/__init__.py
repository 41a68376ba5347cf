"""What a reader sees: the figures (`figures`) and the report (`report`)."""
