"""Kind ``plink``: PLINK 1 binary genotypes (``.bed`` + ``.bim`` + ``.fam``; give the ``.bed`` or the prefix).

Variant nodes, subjects and streamed dosages as ``loaders._genotype_load`` describes; the effect
allele is ``.bim`` column 5 (A1). Options: see ``_genotype_load`` (``-o sample_id=...``, ``-o build=...``,
``-o gene_ranges=...``, ``-o window=...`` ...).
"""

from __future__ import annotations

from loaders._genotype_load import genotype_loader, prefix_resolver

__all__ = ["LOADER"]

LOADER = genotype_loader(
    "plink",
    "PLINK 1 .bed/.bim/.fam genotypes: variant nodes, samples as subjects, dosages to the data plane (by variant)",
    ("*.bed",),
    (),
    prefix_resolver(".bed", (".bim", ".fam")),
)
