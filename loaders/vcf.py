"""Kind ``vcf``: VCF/BCF genotypes, bgzipped or not; dosages from ``GT`` (default) or ``DS`` (``-o field=DS``).

Variant nodes, subjects and streamed dosages as ``loaders._genotype_load`` describes; the effect
allele is ALT. Sample names are FID and IID unless ``-o id_delim=...`` splits them.
"""

from __future__ import annotations

from loaders._genotype_load import genotype_loader

__all__ = ["LOADER"]

LOADER = genotype_loader(
    "vcf",
    "VCF/BCF genotypes (GT or DS; bgzipped or not): variant nodes, samples as subjects, dosages to the data plane",
    ("*.vcf", "*.vcf.gz", "*.vcf.bgz", "*.bcf"),
    ("field", "id_delim"),
)
