"""Disease identifiers as sources write them (``OMIM:211980``, ``ORPHA:3339``, ``MIM:PS267700``,
``NCI:C3262``, ``UMLS_CUI:C0242379``, ``SNOMEDCT_US_2023_03_01:702342007`` ...) -> standard IRIs.

Used by the ``hpo-*`` and ``disease-ontology`` loaders. The IRI always comes from the one
prefix map (``kg.core.namespaces``), never from a base written here, so a disease meets the
same disease loaded by another source (the ``obo`` loader's MONDO xrefs, ClinVar's
``DiseaseMIM``). Identifiers without a standard IRI there (OMIM phenotypic series
``PS...``, GARD, ICD-10-CM, DECIPHER, KEGG) give ``None``; callers keep them as text and
report them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import URIRef

from kg.core import namespaces
from kg.core.namespaces import expand

__all__ = ["CURIE", "DiseaseId", "canonical_prefix", "disease_iri", "split_curie"]

CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.]*):(\S+)$")
"""A CURIE: a prefix of letters, digits, ``_`` and ``.``, a colon and a non-empty local part."""

_SNOMED_RELEASE = re.compile(r"^SNOMEDCT_US(?:_\d{4}_\d{2}_\d{2})?$", re.IGNORECASE)
_LOCAL_PATTERNS: dict[str, re.Pattern[str]] = {
    "omim": re.compile(r"^\d{6}$"),
    "orphanet": re.compile(r"^\d+$"),
    "DOID": re.compile(r"^\d+$"),
    "MONDO": re.compile(r"^\d{7}$"),
    "mesh": re.compile(r"^[CDM]\d+$"),
    "NCIT": re.compile(r"^C\d+$"),
    "umls": re.compile(r"^C\d{7}$"),
    "snomedct": re.compile(r"^\d+$"),
}
"""Local-part patterns (identifiers.org / OBO) checked before an IRI is made."""


@dataclass(frozen=True)
class DiseaseId:
    """A disease identifier split into its source prefix and local part."""

    prefix: str
    local: str

    @property
    def curie(self) -> str:
        """The identifier as written, ``PREFIX:local``."""
        return f"{self.prefix}:{self.local}"


def split_curie(text: str) -> DiseaseId | None:
    """``"OMIM:211980"`` -> ``DiseaseId("OMIM", "211980")``; ``None`` if not a CURIE.

    >>> split_curie("ORPHA:3339")
    DiseaseId(prefix='ORPHA', local='3339')
    >>> split_curie("OMIM211980") is None
    True
    """
    match = CURIE.match(text.strip())
    return DiseaseId(match.group(1), match.group(2)) if match else None


def canonical_prefix(prefix: str) -> str | None:
    """The prefix-map name of a source prefix (``MIM`` -> ``omim``), ``None`` if unknown.

    >>> canonical_prefix("ORPHA"), canonical_prefix("SNOMEDCT_US_2023_03_01"), canonical_prefix("GARD")
    ('orphanet', 'snomedct', None)
    """
    if _SNOMED_RELEASE.match(prefix):
        prefix = "SNOMEDCT"
    return namespaces.CONVERTER.standardize_prefix(prefix)  # type: ignore[no-any-return]


def disease_iri(curie: str) -> URIRef | None:
    """The standard IRI of a disease identifier, or ``None`` when it has none here.

    >>> disease_iri("OMIM:211980")
    rdflib.term.URIRef('http://identifiers.org/mim/211980')
    >>> disease_iri("MIM:PS267700") is None  # an OMIM phenotypic series, not an entry
    True
    >>> disease_iri("SNOMEDCT_US_2023_03_01:702342007")
    rdflib.term.URIRef('http://identifiers.org/snomedct/702342007')
    """
    parts = split_curie(curie)
    if parts is None:
        return None
    canonical = canonical_prefix(parts.prefix)
    if canonical is None:
        return None
    pattern = _LOCAL_PATTERNS.get(canonical)
    if pattern is not None and not pattern.match(parts.local):
        return None
    iri = expand(f"{canonical}:{parts.local}")
    return URIRef(iri) if iri is not None else None
