"""Kind ``bgen``: BGEN 1.2/1.3 genotypes (zlib or zstd; ``.sample`` or embedded ids; ``.bgi`` used when present).

Variant nodes, subjects and streamed dosages as ``loaders._genotype_load`` describes; the effect
allele is the first BGEN allele (PLINK 2's ``ref-last`` import; ``-o bgen_ref=first`` counts the
second, as REGENIE does). ``-o sample_file=FILE`` names the ``.sample`` file, ``-o id_delim=_`` splits
embedded ``FID_IID`` ids.
"""

from __future__ import annotations

from loaders._genotype_load import genotype_loader

__all__ = ["LOADER"]

LOADER = genotype_loader(
    "bgen",
    "BGEN 1.2/1.3 genotypes (zlib, zstd; .sample or embedded ids): variant nodes, subjects, dosages to the data plane",
    ("*.bgen",),
    ("bgen_ref", "id_delim", "sample_file"),
)
