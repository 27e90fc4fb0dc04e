"""Runnable examples and the bundled demo data (``examples/data``)."""
