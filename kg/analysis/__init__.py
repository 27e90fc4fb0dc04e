"""Analyses over the store: radiogenomic associations, OWL reasoning, marker conflicts, IBSI conformance.

An analysis reads through ``kg.store`` (and the columnar ``kg.dataplane``) and writes its
results back as its own source graph with a ``prov:Activity``; it never imports the CLI or
the HTTP endpoint.
"""
