"""OBO ontologies (GO, DOID, MONDO, HPO ...) through pronto -> OWL classes with crosswalks.

The shape follows the OBO Foundry's own OBO-to-OWL mapping (what ``go.owl`` holds), so a
term loaded from ``.obo`` meets the same term loaded from the published ``.owl``:

- each term is an ``owl:Class`` at its OBO PURL (``GO:0005634`` ->
  ``http://purl.obolibrary.org/obo/GO_0005634``), ``rdfs:label`` its name,
  ``oboInOwl:hasOBONamespace`` its namespace, ``obo:IAO_0000115`` its definition,
  ``oboInOwl:has{Exact,Related,Broad,Narrow}Synonym`` its synonyms;
- ``is_a`` -> ``rdfs:subClassOf``; ``relationship: part_of X`` (and the other relations
  with a known OBO property) -> an existential restriction
  ``rdfs:subClassOf [ owl:onProperty obo:BFO_0000050 ; owl:someValuesFrom X ]``, as in
  the official OWL; query it as ``?c rdfs:subClassOf/owl:someValuesFrom ?x`` with
  ``owl:onProperty`` (chosen over a direct class-to-class edge, which would pun classes
  as individuals and differ from the published OWL);
- obsolete terms: ``owl:deprecated true``, ``obo:IAO_0100001`` (term replaced by) and
  ``oboInOwl:consider``; they get no ``igkg:Disease`` type;
- every xref -> ``oboInOwl:hasDbXref`` text; xrefs and ``property_value: skos:*Match``
  to disease and clinical vocabularies (MeSH, UMLS, NCIt, OMIM, SNOMED CT, DOID, MONDO,
  HP, MedGen) -> ``skos:exactMatch`` to the standard IRI, or ``skos:closeMatch`` when the
  xref's qualifier says it is not an equivalence (MONDO's ``{source="MONDO:relatedTo"}``
  and the like; pronto drops xref qualifiers, so they are read from the text);
- with option ``disease`` (``auto``: the ontology is DOID or MONDO) the terms of that
  ontology are also typed ``igkg:Disease``, so diagnoses mapped to MeSH/UMLS meet them.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from rdflib import BNode, Literal, URIRef

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG, MEDGEN, OBO, OBOINOWL, OWL, RDF, RDFS, SKOS, expand
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import MAX_LINE_BYTES, first_long_line, open_text

__all__ = ["CROSSWALK_PREFIXES", "LOADER", "RELATIONS", "term_iri"]

logger = logging.getLogger(__name__)

RELATIONS: dict[str, str] = {
    "part_of": "BFO_0000050",
    "has_part": "BFO_0000051",
    "occurs_in": "BFO_0000066",
    "regulates": "RO_0002211",
    "negatively_regulates": "RO_0002212",
    "positively_regulates": "RO_0002213",
    "has_modifier": "RO_0002573",
    "disease_has_location": "RO_0004026",
    "disease_has_feature": "RO_0004029",
}
"""OBO relation names -> OBO property local names (their OWL property IRIs)."""

CROSSWALK_PREFIXES = frozenset(
    {"mesh", "umls", "NCIT", "omim", "snomedct", "DOID", "MONDO", "HP", "medgen"}
)
"""Canonical prefixes whose xrefs become skos crosswalks (see ``kg.core.namespaces``)."""

_DISEASE_ONTOLOGIES = ("DOID", "MONDO")
_SYNONYM = {
    "EXACT": OBOINOWL.hasExactSynonym,
    "RELATED": OBOINOWL.hasRelatedSynonym,
    "BROAD": OBOINOWL.hasBroadSynonym,
    "NARROW": OBOINOWL.hasNarrowSynonym,
}
_MATCH = {
    "skos:exactMatch": SKOS.exactMatch,
    "skos:closeMatch": SKOS.closeMatch,
    "skos:broadMatch": SKOS.broadMatch,
    "skos:narrowMatch": SKOS.narrowMatch,
    "skos:relatedMatch": SKOS.relatedMatch,
}
_XREF_QUALIFIER = re.compile(r'^xref:\s*(\S+)(?:\s+"[^"]*")?\s*\{([^}]*)\}')
_ID_LINE = re.compile(r"^id:\s*(\S+)")


def term_iri(curie: str, idspaces: dict[str, str] | None = None) -> URIRef | None:
    """The OBO PURL (or declared ``idspace``) IRI of a term id, ``None`` if not a CURIE.

    >>> term_iri("GO:0005634")
    rdflib.term.URIRef('http://purl.obolibrary.org/obo/GO_0005634')
    >>> term_iri("part_of") is None
    True
    """
    prefix, sep, local = curie.partition(":")
    if not sep or not prefix or not local or " " in curie:
        return None
    if curie.startswith(("http://", "https://")):
        return URIRef(curie)
    if idspaces and prefix in idspaces:
        return URIRef(idspaces[prefix] + local)
    return OBO[f"{prefix}_{local}"]


def crosswalk_iri(curie: str) -> URIRef | None:
    """The standard IRI of an xref to a crosswalked vocabulary, else ``None``.

    >>> crosswalk_iri("MESH:D011535")
    rdflib.term.URIRef('http://id.nlm.nih.gov/mesh/D011535')
    >>> crosswalk_iri("Orphanet:2970") is None
    True
    """
    prefix, sep, local = curie.partition(":")
    if not sep or not local:
        return None
    iri = expand(curie)
    if iri is None:
        return None
    from kg.core.namespaces import CONVERTER

    canonical = CONVERTER.standardize_prefix(prefix)
    if canonical not in CROSSWALK_PREFIXES:
        return None
    if canonical == "umls" and local.upper().startswith("CN"):
        return MEDGEN[local]  # "CN..." concepts are MedGen's own, not UMLS CUIs
    return URIRef(iri)


def _qualifiers(path: Path, context: LoadContext) -> dict[tuple[str, str], str]:
    """(term id, xref id) -> the qualifier text of xrefs that carry ``{...}`` qualifiers."""
    found: dict[tuple[str, str], str] = {}
    current = ""
    with open_text(path, context) as handle:
        for raw in io.TextIOWrapper(handle, encoding="utf-8", errors="replace"):
            if raw.startswith("id:"):
                match = _ID_LINE.match(raw)
                current = match.group(1) if match else ""
            elif raw.startswith("xref:") and "{" in raw:
                match = _XREF_QUALIFIER.match(raw)
                if match:
                    found[(current, match.group(1))] = match.group(2)
    return found


def _is_exact(qualifier: str | None) -> bool:
    if not qualifier:
        return True
    text = qualifier.lower()
    if "equivalent" in text or "exact" in text:
        return True
    return not any(word in text for word in ("related", "broad", "narrow", "subclass", "superclass", "close"))


def _load(path: Path, context: LoadContext, report: LoadReport | None = None):  # noqa: ANN202 - a pronto.Ontology
    import warnings

    chunks: list[bytes] = []
    try:
        with open_text(path, context) as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while chunk := handle.read(1 << 16):
                chunks.append(chunk)
    except (EOFError, OSError, zlib.error) as exc:
        line = sum(c.count(b"\n") for c in chunks) + 1
        raise LoadError(path, f"file is truncated or not a valid archive ({exc})", line=line, hint="download the file again") from None
    data = b"".join(chunks)
    long_line = first_long_line(data)
    if long_line is not None:
        raise LoadError(path, f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB", line=long_line,
                        hint="the line is corrupt or the file is not OBO; check the file and --kind")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(path, "not valid UTF-8", line=line, hint="OBO files are UTF-8") from None
    if not data.lstrip().startswith((b"format-version", b"[Term]", b"[Typedef]", b"ontology:", b"data-version")) and b"\n[Term]" not in data:
        raise LoadError(path, "not an OBO flat file (no header and no [Term] stanza)", line=1, hint="give an .obo file")
    try:
        return _pronto(data)
    except Exception as exc:  # pronto/fastobo raise several types; all mean a syntax error
        first = exc
    # Older (OBO 1.2) files write definition xref lists the 1.4 parser refuses
    # ("[ISBN:0199747725\\, 978...]", "[PMID: 10908370]"): retry with those lists normalised.
    fixed, lines = _normalise_def_xrefs(data)
    if lines:
        try:
            ontology = _pronto(fixed)
        except Exception:  # noqa: BLE001 - report the first, original error
            pass
        else:
            if report is not None:
                report.note(f"definition xref lists normalised (OBO 1.2 style) on {len(lines)} line(s), first line {lines[0]}")
            return ontology
    text = str(first)
    match = re.search(r"line (\d+)|(\d+):\d+", text)
    line = int(match.group(1) or match.group(2)) if match else None
    raise LoadError(path, f"OBO syntax error: {text.splitlines()[0] if text else type(first).__name__}", line=line, hint="fix the file or download it again") from None


_DEF_LINE = re.compile(rb'^(def:\s*"(?:[^"\\]|\\.)*")\s*\[(.*)\](.*)$')


def _normalise_def_xrefs(data: bytes) -> tuple[bytes, list[int]]:
    """Rewrite ``def:`` xref lists to OBO 1.4 form; returns the new text and the lines changed."""
    out: list[bytes] = []
    changed: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        match = _DEF_LINE.match(line) if line.startswith(b"def:") else None
        if match:
            items = []
            for item in re.split(rb"(?<!\\),", match.group(2)):
                item = re.sub(rb":\s+", b":", item.replace(b"\\,", b"%2C").strip())
                item = re.sub(rb"\s+", b"%20", item)
                if item:
                    items.append(item)
            new = match.group(1) + b" [" + b", ".join(items) + b"]" + match.group(3)
            if new != line:
                changed.append(number)
                line = new
        out.append(line)
    return b"\n".join(out), changed


_STUB_MARK = "igkg:dangling-reference"


def _pronto(data: bytes):  # noqa: ANN202 - a pronto.Ontology
    """Parse with pronto; ``is_a`` parents the file does not define (subsets, slims) are
    declared as empty stanzas first, because pronto refuses dangling parents. Those
    stubs carry a comment marking them and make no triples of their own."""
    import warnings

    import pronto

    defined = set(re.findall(rb"^id:[ \t]*(\S+)", data, re.MULTILINE))
    parents = set(re.findall(rb"^is_a:[ \t]*(\S+)", data, re.MULTILINE))
    missing = sorted(parents - defined)
    if missing:
        stubs = b"".join(b"\n[Term]\nid: " + m + b"\ncomment: " + _STUB_MARK.encode() + b"\n" for m in missing)
        data = data.rstrip(b"\n") + b"\n" + stubs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pronto.Ontology(io.BytesIO(data))


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield the OWL rendering of every term of an OBO file."""
    ontology = _load(path, context, report)
    qualifiers = _qualifiers(path, context)
    idspaces = {k: v[0] if isinstance(v, tuple) else str(v) for k, v in (ontology.metadata.idspaces or {}).items()}
    name = (ontology.metadata.ontology or "").strip()
    prefixes = Counter(t.id.split(":", 1)[0] for t in ontology.terms() if ":" in t.id)
    main_prefix = name.upper() if name and name.upper() in prefixes else (prefixes.most_common(1)[0][0] if prefixes else "")
    disease_option = str(context.option("disease", "auto")).lower()
    disease = disease_option in ("yes", "true", "1") or (
        disease_option == "auto" and main_prefix.upper() in _DISEASE_ONTOLOGIES
    )
    if name:
        header = OBO[f"{name.lower()}.owl"]
        yield header, RDF.type, OWL.Ontology
        if ontology.metadata.data_version:
            yield header, OWL.versionInfo, Literal(ontology.metadata.data_version)
            report.note(f"{name} data-version {ontology.metadata.data_version}")
    lineage = ontology._terms.lineage  # noqa: SLF001 - pronto keeps raw is_a ids here, even dangling ones
    obsolete = 0
    for term in ontology.terms():
        data = term._data()  # noqa: SLF001 - raw ids, so dangling references do not raise
        if data.comment == _STUB_MARK:
            continue
        node = term_iri(data.id, idspaces)
        if node is None:
            report.reject(f"term id {data.id!r} is not a CURIE", record=data.id)
            continue
        report.records_read += 1
        yield node, RDF.type, OWL.Class
        if data.name:
            yield node, RDFS.label, Literal(data.name)
        if data.namespace:
            yield node, OBOINOWL.hasOBONamespace, Literal(data.namespace)
        yield node, OBOINOWL.id, Literal(data.id)
        if data.definition:
            yield node, OBO.IAO_0000115, Literal(str(data.definition))
        for synonym in data.synonyms:
            yield node, _SYNONYM.get(synonym.scope or "RELATED", OBOINOWL.hasRelatedSynonym), Literal(synonym.description)
        for alt in data.alternate_ids:
            yield node, OBOINOWL.hasAlternativeId, Literal(alt)
        for parent in sorted(lineage[data.id].sup) if data.id in lineage else ():
            parent_iri = term_iri(parent, idspaces)
            if parent_iri is not None:
                yield node, RDFS.subClassOf, parent_iri
        for relation, targets in sorted(data.relationships.items()):
            prop = RELATIONS.get(relation)
            prop_iri = OBO[prop] if prop else term_iri(relation, idspaces)
            if prop_iri is None:
                report.unmapped_id("relation", relation)
                continue
            for target in sorted(targets):
                target_iri = term_iri(target, idspaces)
                if target_iri is None:
                    continue
                restriction = BNode()
                yield node, RDFS.subClassOf, restriction
                yield restriction, RDF.type, OWL.Restriction
                yield restriction, OWL.onProperty, prop_iri
                yield restriction, OWL.someValuesFrom, target_iri
        if data.obsolete:
            obsolete += 1
            yield node, OWL.deprecated, Literal(True)
            for replacement in sorted(data.replaced_by):
                if (iri := term_iri(replacement, idspaces)) is not None:
                    yield node, OBO.IAO_0100001, iri
            for consider in sorted(data.consider):
                if (iri := term_iri(consider, idspaces)) is not None:
                    yield node, OBOINOWL.consider, iri
        elif disease and data.id.split(":", 1)[0].upper() == main_prefix.upper():
            yield node, RDF.type, IGKG.Disease
        for xref in sorted(data.xrefs, key=lambda x: x.id):
            yield node, OBOINOWL.hasDbXref, Literal(xref.id)
            target = crosswalk_iri(xref.id)
            if target is not None and target != node:
                exact = _is_exact(qualifiers.get((data.id, xref.id)))
                yield node, SKOS.exactMatch if exact else SKOS.closeMatch, target
        for annotation in data.annotations:
            predicate = _MATCH.get(annotation.property)
            value = getattr(annotation, "resource", None)
            if predicate is None or not value:
                continue
            target = crosswalk_iri(value) or term_iri(value, idspaces)
            if target is not None:
                yield node, predicate, target
    if not report.records_read:
        raise LoadError(path, "no terms: the file has a header but no [Term] stanza", line=1, hint="the download may be cut; get the file again")
    if obsolete:
        report.note(f"{obsolete} obsolete terms flagged owl:deprecated")
    if "relation" in report.unmapped:
        report.note("relations without an OWL property were skipped: " + ", ".join(sorted(report.unmapped["relation"])))


LOADER = Loader(
    kind="obo",
    description="OBO ontologies through pronto (GO, DOID, MONDO, HPO ...): classes, is_a, part_of, obsolete terms, xref crosswalks (option disease)",
    parse=parse,
    patterns=("*.obo", "*.obo.gz"),
    version="1",
    options=("disease",),
)
