"""``python -m kg.cli``: the ``igkg`` command line."""

from kg.cli.app import main

main()
