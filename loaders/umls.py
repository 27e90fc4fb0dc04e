"""UMLS Metathesaurus release files (a folder with ``MRCONSO.RRF``, ``MRSTY.RRF``, ``MRREL.RRF``).

Columns as the UMLS Reference Manual documents them (NLM, "Metathesaurus - Rich Release
Format", sections 3.3.4 MRCONSO, 3.3.7 MRSTY, 3.3.6 MRREL); fields are ``|``-separated
and every row ends with ``|``; a release may lack the final newline:

- MRCONSO: CUI LAT TS LUI STT SUI ISPREF AUI SAUI SCUI SDUI SAB TTY CODE STR SRL SUPPRESS CVF
- MRSTY: CUI TUI STN STY ATUI CVF
- MRREL: CUI1 AUI1 STYPE1 REL CUI2 AUI2 STYPE2 RELA RUI SRUI SAB SL RG DIR SUPPRESS CVF

Each CUI becomes an ``igkg:Concept`` (``http://identifiers.org/umls/C...``) with one
``rdfs:label`` and ``skos:prefLabel``: its preferred English string (TS=P, STT=PF,
ISPREF=Y) when it has one, else its preferred string in another language, always with the
language tag of the row's LAT (``@en``, ``@fr``, ``@de`` ...); every other unsuppressed
string is a ``skos:altLabel`` with its tag. All languages are kept unless option
``languages`` (LAT codes, ``ENG,FRE``) restricts them. ``igkg:semanticType`` goes to the TUI
(``http://identifiers.org/umls.sty/T047``), and ``skos:exactMatch`` to the standard IRI
of each source code it contains (MSH and its translations MSHFRE, MSHGER ... -> the MeSH
descriptor, NCI -> NCIt, SNOMEDCT_US, OMIM, HPO, GO, MEDGEN ...). Concepts with a disorder semantic type are also typed ``igkg:Disease``.
From MRREL the hierarchy is kept (option ``relations``, default ``PAR,CHD,RB,RN``) as
``skos:broader`` (REL is the relation of CUI2 to CUI1: ``PAR`` = CUI2 is a parent of
CUI1), and ``RO`` as ``skos:related`` when asked for.

UMLS content is licensed: igkg ships none; this loader reads the user's own release.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import ConfigError, LoadError
from kg.core.namespaces import IGKG, RDF, RDFS, SKOS, UMLS, UMLS_STY, expand
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_lines

__all__ = ["DISORDER_TYPES", "LOADER", "SOURCES", "code_iri"]

logger = logging.getLogger(__name__)

SOURCES: dict[str, str] = {
    "MSH": "mesh",
    "NCI": "NCIT",
    "SNOMEDCT_US": "snomedct",
    "OMIM": "omim",
    "HPO": "HP",
    "GO": "GO",
    "MEDGEN": "medgen",
}
"""UMLS source abbreviation (SAB) -> igkg prefix of its codes' standard IRIs."""

DISORDER_TYPES = frozenset({"T019", "T020", "T037", "T046", "T047", "T048", "T049", "T050", "T190", "T191"})
"""TUIs of the UMLS 'Disorders' group that denote diseases (findings and signs left out)."""

_LANG = {
    "ARA": "ar", "BAQ": "eu", "CHI": "zh", "CZE": "cs", "DAN": "da", "DUT": "nl", "ENG": "en", "EST": "et",
    "FIN": "fi", "FRE": "fr", "GER": "de", "GRE": "el", "HEB": "he", "HUN": "hu", "ITA": "it", "JPN": "ja",
    "KOR": "ko", "LAV": "lv", "LIT": "lt", "NOR": "no", "POL": "pl", "POR": "pt", "RUS": "ru", "SCR": "hr",
    "SPA": "es", "SWE": "sv", "TUR": "tr", "UKR": "uk",
}
"""UMLS LAT (ISO 639-2/B, as MRCONSO writes it) -> the BCP 47 tag of its strings."""
_MESH_TRANSLATION = re.compile(r"^MSH[A-Z]{3}$")
_BROADER = {"PAR": False, "RB": False, "CHD": True, "RN": True}  # True: CUI2 is the narrower one
_FILES = {"MRCONSO": 18, "MRSTY": 6, "MRREL": 16}


def code_iri(sab: str, code: str) -> URIRef | None:
    """The standard IRI of a source code in MRCONSO, or ``None`` for sources igkg does not map.

    >>> code_iri("MSH", "D009369")
    rdflib.term.URIRef('http://id.nlm.nih.gov/mesh/D009369')
    >>> code_iri("HPO", "HP:0001250")
    rdflib.term.URIRef('http://purl.obolibrary.org/obo/HP_0001250')
    >>> code_iri("MSHFRE", "D009369")
    rdflib.term.URIRef('http://id.nlm.nih.gov/mesh/D009369')
    >>> code_iri("MDR", "10000001") is None
    True
    """
    prefix = SOURCES.get(sab) or ("mesh" if _MESH_TRANSLATION.match(sab) else None)
    code = code.strip()
    if prefix is None or not code or code == "NOCODE":
        return None
    if prefix == "omim" and not code.isdigit():
        return None  # allelic variants (100100.0001) and other non-entry codes
    if prefix in ("HP", "GO") and ":" in code:
        iri = expand(code)
    else:
        iri = expand(f"{prefix}:{code}")
    return URIRef(iri) if iri else None


def _rows(path: Path, context: LoadContext, name: str) -> Iterator[tuple[int, list[str]]]:
    width = _FILES[name]
    for lineno, text in iter_lines(path, context):
        if not text:
            continue
        cells = text.split("|")
        if cells and cells[-1] == "":
            cells = cells[:-1]
        if len(cells) != width:
            raise LoadError(
                path,
                f"{len(cells)} '|'-separated fields; {name}.RRF rows have {width}",
                line=lineno,
                hint=f"give the {name}.RRF of a UMLS release (Rich Release Format, not ORF)",
            )
        yield lineno, cells


def _labels(cui: str | None, strings: list[tuple[int, str, str]], labelled: set[str]) -> Iterator[Triple]:
    """One concept's labels from its ``(rank, string, tag)``: the best-ranked string (English
    first) as ``rdfs:label`` and ``skos:prefLabel``, the others as ``skos:altLabel``, each with
    its language tag. A concept met again (an unsorted file) gets altLabels only."""
    if cui is None or not strings:
        return
    node = UMLS[cui]
    best = max(strings, key=lambda s: s[0]) if cui not in labelled else None
    if best is not None:
        labelled.add(cui)
        yield node, RDFS.label, Literal(best[1], lang=best[2])
        yield node, SKOS.prefLabel, Literal(best[1], lang=best[2])
    for _, string, tag in dict.fromkeys((0, s, t) for _, s, t in strings):
        if best is None or (string, tag) != (best[1], best[2]):
            yield node, SKOS.altLabel, Literal(string, lang=tag)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.RRF", folder / f"{name}.RRF.gz", folder / "META" / f"{name}.RRF"):
        if candidate.is_file():
            return candidate
    return None


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield concepts, semantic types, crosswalks and the selected relations."""
    if not path.is_dir():
        raise LoadError(path, "kind umls reads a folder holding MRCONSO.RRF (and MRSTY.RRF, MRREL.RRF)", hint="give the META folder")
    conso = _find(path, "MRCONSO")
    if conso is None:
        raise LoadError(path, "no MRCONSO.RRF in this folder", hint="give the META folder of a UMLS release")
    languages = {x.strip().upper() for x in str(context.option("languages", "") or "").split(",") if x.strip()}
    if languages - set(_LANG) - {"ALL"}:
        report.note(f"languages {', '.join(sorted(languages - set(_LANG)))} are not LAT codes igkg knows; tagged by their first two letters")
    keep_all = not languages or "ALL" in languages
    relations = {x.strip().upper() for x in str(context.option("relations", "PAR,CHD,RB,RN")).split(",") if x.strip()}
    unknown = relations - set(_BROADER) - {"RO"}
    if unknown:
        raise ConfigError(f"option relations: unknown REL value(s) {', '.join(sorted(unknown))}; use PAR, CHD, RB, RN, RO")

    # MRCONSO is sorted by CUI: a concept's strings are gathered and labelled when the next
    # concept starts, so memory holds one concept's strings, never the release's.
    group: list[tuple[int, str, str]] = []
    group_cui: str | None = None
    labelled: set[str] = set()
    for _, c in _rows(conso, context, "MRCONSO"):
        report.records_read += 1
        cui, lat, ts, stt, ispref, sab, code, string, suppress = c[0], c[1], c[2], c[4], c[6], c[11], c[13], c[14], c[16]
        node = UMLS[cui]
        if cui != group_cui:
            yield from _labels(group_cui, group, labelled)
            group, group_cui = [], cui
            if cui not in labelled:
                yield node, RDF.type, IGKG.Concept
        target = code_iri(sab, code)
        if target is not None:
            yield node, SKOS.exactMatch, target
        else:
            report.unmapped_id("umls-source", sab)
        if (not keep_all and lat not in languages) or suppress in ("O", "E", "Y"):
            continue
        rank = (lat == "ENG") * 8 + (ts == "P") * 4 + (stt == "PF") * 2 + (ispref == "Y")
        group.append((rank, string, _LANG.get(lat, lat.lower()[:2])))
    yield from _labels(group_cui, group, labelled)

    sty = _find(path, "MRSTY")
    if sty is None:
        report.note("no MRSTY.RRF: concepts get no semantic types")
    else:
        types: set[str] = set()
        for _, c in _rows(sty, context, "MRSTY"):
            report.records_read += 1
            cui, tui, name = c[0], c[1], c[3]
            yield UMLS[cui], IGKG.semanticType, UMLS_STY[tui]
            if tui not in types:
                types.add(tui)
                yield UMLS_STY[tui], RDF.type, IGKG.SemanticType
                yield UMLS_STY[tui], RDFS.label, Literal(name)
            if tui in DISORDER_TYPES:
                yield UMLS[cui], RDF.type, IGKG.Disease

    rel = _find(path, "MRREL")
    if rel is None:
        report.note("no MRREL.RRF: no relations between concepts")
    else:
        for _, c in _rows(rel, context, "MRREL"):
            report.records_read += 1
            cui1, kind, cui2, suppress = c[0], c[3], c[4], c[14]
            if kind not in relations or cui1 == cui2 or suppress in ("O", "E", "Y"):
                continue
            if kind == "RO":
                yield UMLS[cui1], SKOS.related, UMLS[cui2]
            elif _BROADER[kind]:
                yield UMLS[cui2], SKOS.broader, UMLS[cui1]
            else:
                yield UMLS[cui1], SKOS.broader, UMLS[cui2]
    if "umls-source" in report.unmapped:
        report.note("sources without a standard IRI in igkg (no crosswalk made): " + ", ".join(sorted(report.unmapped["umls-source"])))


LOADER = Loader(
    kind="umls",
    description="UMLS release folder (MRCONSO.RRF, MRSTY.RRF, MRREL.RRF): concepts, synonyms, semantic types, crosswalks to MeSH/NCIt/SNOMED CT/OMIM/HPO (options languages, relations)",
    parse=parse,
    patterns=("meta", "umls*"),
    version="2",
    accepts_directory=True,
    options=("languages", "relations"),
)
