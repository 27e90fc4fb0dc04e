"""Genotype readers with one interface: :func:`open_genotypes` -> :class:`GenotypeSource`.

Kinds (the contract of each is in its module): ``plink`` (PLINK 1 .bed/.bim/.fam), ``pgen`` (PLINK 2
.pgen/.pvar/.psam), ``bgen`` (BGEN 1.2/1.3) and ``vcf`` (VCF/BCF). Every reader gives ``samples``
(fid, iid, sex), ``variants`` (id, chrom, pos, effect_allele, other_allele, cm), ``build`` when the file
states it, and streams dosages of the effect allele (samples x variants, NaN missing) with
``iter_blocks``. The effect allele is the ALT allele in PLINK 2's sense of each format (see ``_base``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._base import (
    SAMPLE_COLUMNS,
    VARIANT_COLUMNS,
    GenotypeBlock,
    GenotypeError,
    GenotypeSource,
    normalise_build,
    normalise_chrom,
)
from .bgen import open_bgen
from .gene_ranges import GeneRanges, read_gene_ranges, variants_to_genes
from .pgen import open_pgen
from .plink import open_plink
from .vcf import open_vcf

__all__ = [
    "KINDS",
    "SAMPLE_COLUMNS",
    "VARIANT_COLUMNS",
    "GeneRanges",
    "GenotypeBlock",
    "GenotypeError",
    "GenotypeSource",
    "kind_for_path",
    "normalise_build",
    "normalise_chrom",
    "open_genotypes",
    "read_gene_ranges",
    "variants_to_genes",
]

#: kind -> opener; the keyword options each takes are those of the opener.
KINDS = {
    "bgen": open_bgen,
    "pgen": open_pgen,
    "plink": open_plink,
    "vcf": open_vcf,
}
assert list(KINDS) == sorted(KINDS)

_SUFFIXES = {
    ".bed": "plink", ".bim": "plink", ".fam": "plink",
    ".pgen": "pgen", ".pvar": "pgen", ".psam": "pgen",
    ".bgen": "bgen",
    ".vcf": "vcf", ".bcf": "vcf", ".vcf.gz": "vcf", ".vcf.bgz": "vcf", ".bcf.gz": "vcf",
}


def kind_for_path(path: str | Path) -> str:
    """The genotype kind from the file suffix, or from the sibling ``.bed``/``.pgen`` of a prefix.

    >>> kind_for_path("chr1.vcf.gz"), kind_for_path("data/ukb.bgen")
    ('vcf', 'bgen')
    """
    path = Path(path)
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    found = [kind for ext, kind in ((".bed", "plink"), (".pgen", "pgen"))
             if path.with_name(path.name + ext).is_file()]
    if len(found) == 1:
        return found[0]
    raise GenotypeError(path, "cannot tell the genotype format from the name",
                        hint=f"give kind= one of {', '.join(KINDS)} or a file ending in .bed, .pgen, .bgen, .vcf(.gz), .bcf")


def open_genotypes(path: str | Path, *, kind: str | None = None, **options: Any) -> GenotypeSource:
    """Open a genotype file as a :class:`GenotypeSource`; ``kind`` from the argument or the suffix.

    ``options`` go to the kind's opener (``on_multiallelic``, ``id_delim``, ``sample_file``, ``bgen_ref``,
    ``field``). Call ``.close()`` (or use ``with``) when done.

    >>> from pathlib import Path
    >>> data = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "genotypes" / "regenie_example"
    >>> with open_genotypes(data / "example.bed") as source:
    ...     source.n_samples, source.n_variants, list(source.variants.columns)
    (500, 1000, ['id', 'chrom', 'pos', 'effect_allele', 'other_allele', 'cm'])

    :raises GenotypeError: see each kind's opener.
    """
    kind = kind or kind_for_path(path)
    if kind not in KINDS:
        raise ValueError(f"unknown genotype kind {kind!r}: use one of {', '.join(KINDS)}")
    return KINDS[kind](path, **options)
