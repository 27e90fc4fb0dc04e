"""Kind ``pgen``: PLINK 2 genotypes (``.pgen`` + ``.pvar`` + ``.psam``; give the ``.pgen`` or the prefix).

Variant nodes, subjects and streamed dosages as ``loaders._genotype_load`` describes; the effect
allele is the ``.pvar`` ALT allele. Multi-allelic sites: ``-o on_multiallelic=error|skip``.
"""

from __future__ import annotations

from loaders._genotype_load import genotype_loader, prefix_resolver

__all__ = ["LOADER"]

LOADER = genotype_loader(
    "pgen",
    "PLINK 2 .pgen/.pvar/.psam genotypes: variant nodes, samples as subjects, dosages to the data plane (by variant)",
    ("*.pgen",),
    (),
    prefix_resolver(".pgen", (".pvar", ".psam")),
)
