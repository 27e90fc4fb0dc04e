"""igkg's ontology, shapes and mapping tables, shipped as package data (read them with ``importlib.resources``)."""
