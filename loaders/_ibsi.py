"""The pyradiomics -> IBSI feature table, and the ``igkg:RadiomicFeature`` nodes built from it.

``ontologies/ibsi_features.tsv`` maps every pyradiomics 3.0.1 feature to the IBSI code of its
definition (or says IBSI does not define it), with pyradiomics' documented deviations; its
sources are in ``ontologies/IBSI_SOURCES.md`` and ``tests/test_ibsi_table.py`` checks each row
against the IBSI manual's source. ``feature_node`` makes the one node per pyradiomics feature
name that every radiomics loader shares: a feature on a filtered image (``wavelet-LLH_glcm_
Contrast``) carries its image type and points with ``igkg:baseFeature`` to the same feature on
the original image, which carries the Radiomics Ontology class (``igkg:roClass``); both carry
the IBSI code of the feature as ``skos:notation``, so "every measurement of Q4LE on any image"
is one pattern, and ``igkg:imageType`` tells the original image from the filtered ones.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from kg.core.namespaces import IGKG, RADO
from loaders._contract import LoadContext, Triple
from loaders._shapes import FeatureName, feature_name

__all__ = [
    "CLASS_TYPES",
    "IBSI_NAMES",
    "IBSI_TABLE",
    "IbsiName",
    "IbsiRow",
    "any_feature_node",
    "feature_node",
    "ibsi_name",
    "ibsi_names",
    "ibsi_row",
    "ibsi_table",
    "pyradiomics_equivalent",
    "resolve_feature",
]

IBSI_TABLE = "ibsi_features.tsv"
"""File name of the table in the ``ontologies`` package."""

IBSI_NAMES = "ibsi_names.tsv"
"""File name of the IBSI name table (code, current tag, dotted name) in the ``ontologies`` package."""

CLASS_TYPES: dict[str, URIRef] = {
    "shape": IGKG.ShapeFeature,
    "shape2D": IGKG.ShapeFeature,
    "firstorder": IGKG.FirstOrderFeature,
    "glcm": IGKG.GLCMFeature,
    "glrlm": IGKG.GLRLMFeature,
    "glszm": IGKG.GLSZMFeature,
    "gldm": IGKG.GLDMFeature,
    "ngtdm": IGKG.NGTDMFeature,
}
"""pyradiomics feature class -> the igkg class of its features."""

STATUS_TEXT = {
    "defined": "defined",
    "defined-deviates": "defined (pyradiomics deviates)",
    "deprecated": "defined (deprecated in pyradiomics)",
    "not-defined": "not defined by IBSI",
}
"""Table status -> the ``igkg:ibsiStatus`` text."""

_CLASS_LABEL = {
    "shape": "shape",
    "shape2D": "2D shape",
    "firstorder": "first order",
    "glcm": "GLCM",
    "glrlm": "GLRLM",
    "glszm": "GLSZM",
    "gldm": "GLDM",
    "ngtdm": "NGTDM",
}


@dataclass(frozen=True)
class IbsiRow:
    """One row of the table: a pyradiomics feature and the IBSI definition it implements."""

    feature_class: str
    feature: str
    ibsi_code: str | None
    ibsi_family: str | None
    ibsi_feature: str | None
    status: str
    unit: str | None
    deviation: str | None
    evidence: str

    @property
    def ro_class(self) -> URIRef | None:
        """The Radiomics Ontology class ``http://www.radiomics.org/RO/<code>``, if IBSI defines it."""
        return RADO[self.ibsi_code] if self.ibsi_code else None


def _table_text() -> str:
    return resources.files("ontologies").joinpath(IBSI_TABLE).read_text(encoding="utf-8")


@functools.cache
def ibsi_table() -> dict[tuple[str, str], IbsiRow]:
    """The table as ``(feature class, feature) -> IbsiRow`` (read once).

    >>> ibsi_table()[("firstorder", "Mean")].ibsi_code
    'Q4LE'
    >>> ibsi_table()[("firstorder", "TotalEnergy")].status
    'not-defined'
    """
    lines = [line for line in _table_text().splitlines() if line and not line.startswith("#")]
    rows: dict[tuple[str, str], IbsiRow] = {}
    for record in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        row = IbsiRow(
            feature_class=record["feature_class"],
            feature=record["feature"],
            ibsi_code=record["ibsi_code"] or None,
            ibsi_family=record["ibsi_family"] or None,
            ibsi_feature=record["ibsi_feature"] or None,
            status=record["status"],
            unit=record["unit"] or None,
            deviation=record["deviation"] or None,
            evidence=record["evidence"],
        )
        key = (row.feature_class, row.feature)
        if key in rows:
            raise ValueError(f"{IBSI_TABLE}: {key} appears twice")
        if row.status not in STATUS_TEXT:
            raise ValueError(f"{IBSI_TABLE}: unknown status {row.status!r} for {key}")
        rows[key] = row
    return rows


def ibsi_row(name: FeatureName) -> IbsiRow | None:
    """The table row of a feature (any image type), or ``None`` for a feature the table lacks."""
    return ibsi_table().get((name.feature_class, name.feature))


def _label(name: FeatureName) -> str:
    row = ibsi_row(name)
    base = row.ibsi_feature if row is not None and row.ibsi_feature else name.feature
    text = f"{base} ({_CLASS_LABEL.get(name.feature_class, name.feature_class)})"
    return text if name.image_type == "original" else f"{text}, {name.image_type}"


def feature_node(
    context: LoadContext, name: FeatureName | str, triples: list[Triple], described: set[URIRef] | None = None,
) -> URIRef:
    """The ``igkg:RadiomicFeature`` node of a pyradiomics feature, with its description.

    The IRI is ``context.mint("feature", <pyradiomics name>)``, so every loader meets on it.
    A filtered variant gets ``igkg:baseFeature`` to the original-image feature (whose node is
    described too) and the IBSI code of its base feature as ``skos:notation``; the RO class
    sits on the original-image feature only. A query by IBSI code finds every image type
    (filter on ``igkg:imageType "original"`` for the unfiltered values). With ``described``
    (a set the caller keeps over one load), a node already in it gets no triples again: a wide
    table's 14 image types of one feature describe their original-image feature once.

    >>> triples = []
    >>> node = feature_node(LoadContext(), "original_firstorder_Mean", triples)
    >>> str(node)
    'https://w3id.org/igkg/id/feature/original_firstorder_Mean'
    >>> sorted(str(o) for s, p, o in triples if p == SKOS.notation)
    ['Q4LE']
    """
    if isinstance(name, str):
        parsed = feature_name(name)
        if parsed is None:
            raise ValueError(f"not a pyradiomics feature name: {name!r}")
        name = parsed
    node = context.mint("feature", name.full)
    if described is not None:
        if node in described:
            return node
        described.add(node)
    triples += _description(node, name)
    if name.image_type != "original":
        base = feature_node(context, FeatureName("original", name.feature_class, name.feature), triples, described)
        triples.append((node, IGKG.baseFeature, base))
    return node


@functools.lru_cache(maxsize=1 << 12)
def _literal(text: str) -> Literal:
    """A plain literal, made once per text (class, feature and image-type names repeat)."""
    return Literal(text)


@functools.lru_cache(maxsize=1 << 16)
def _description(node: URIRef, name: FeatureName) -> tuple[Triple, ...]:
    """The triples of one feature node (not its base feature's), built once per node and name."""
    row = ibsi_row(name)
    triples: list[Triple] = [
        (node, RDF.type, CLASS_TYPES.get(name.feature_class, IGKG.RadiomicFeature)),
        (node, RDFS.label, Literal(_label(name))),
        (node, IGKG.pyradiomicsName, Literal(name.full)),
        (node, IGKG.featureClass, _literal(name.feature_class)),
        (node, IGKG.featureName, _literal(name.feature)),
        (node, IGKG.imageType, _literal(name.image_type)),
    ]
    if row is not None:
        triples.append((node, IGKG.ibsiStatus, _literal(STATUS_TEXT[row.status])))
        if row.unit and (name.image_type == "original" or name.feature_class.startswith("shape")):
            triples.append((node, IGKG.unit, _literal(row.unit)))
        if row.deviation:
            triples.append((node, SKOS.scopeNote, _literal(row.deviation)))
    if row is not None and row.ibsi_code:
        triples.append((node, SKOS.notation, _literal(row.ibsi_code)))
        if name.image_type == "original":
            triples.append((node, IGKG.roClass, row.ro_class))
    return tuple(triples)


@dataclass(frozen=True)
class IbsiName:
    """One IBSI feature under the names extractors write for it."""

    code: str
    tag: str
    """The current IBSI tag (``stat_mean``), as MIRP writes it."""
    name: str
    """The dotted name of the formula (``stat.mean``); IBSI 1.0-style tables write ``Fstat.mean``."""
    family: str
    feature: str

    @property
    def dotted(self) -> str:
        """The name as IBSI 1.0-style tables write it: ``Fstat.mean``."""
        return "F" + self.name


@functools.cache
def ibsi_names() -> dict[str, IbsiName]:
    """Every IBSI feature by its current tag (read once from ``ontologies/ibsi_names.tsv``).

    >>> ibsi_names()["stat_mean"].code, ibsi_names()["stat_mean"].dotted
    ('Q4LE', 'Fstat.mean')
    """
    text = resources.files("ontologies").joinpath(IBSI_NAMES).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    names: dict[str, IbsiName] = {}
    for record in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        entry = IbsiName(record["ibsi_code"], record["ibsi_tag"], record["ibsi_name"], record["ibsi_family"], record["ibsi_feature"])
        if entry.tag in names:
            raise ValueError(f"{IBSI_NAMES}: tag {entry.tag!r} appears twice")
        names[entry.tag] = entry
    return names


@functools.cache
def _name_index() -> dict[str, IbsiName]:
    index: dict[str, IbsiName] = {}
    for entry in ibsi_names().values():
        for key in dict.fromkeys((entry.tag.lower(), entry.name.lower(), entry.dotted.lower(), entry.name.lower().replace(".", "_"))):
            if index.get(key, entry) != entry:
                raise ValueError(f"{IBSI_NAMES}: {key!r} names two features")
            index[key] = entry
    return index


_MIRP_SUFFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*_[A-Za-z0-9.]+$")


def ibsi_name(text: str) -> IbsiName | None:
    """The IBSI feature an extractor's feature name denotes, or ``None``.

    Current tags: the manual's labels (``stat_mean``, ``morph_volume``, ``cm_joint_maximum``)
    and the dotted names with ``_`` (``cm_joint_max``), as MIRP writes them, also with MIRP's
    settings suffix (``cm_joint_max_d1_3d_avg``: the longest name it starts with); dotted
    names (``Fstat.mean``, ``stat.mean``). Case is ignored.

    >>> ibsi_name("Fstat.mean").code, ibsi_name("morph_volume").code, ibsi_name("Fcm.joint.max").code
    ('Q4LE', 'RNU0', 'GYBY')
    >>> ibsi_name("cm_joint_max_d1_3d_avg").tag
    'cm_joint_maximum'
    >>> ibsi_name("original_firstorder_Mean") is None
    True
    """
    key = text.strip().lower()
    index = _name_index()
    if key in index:
        return index[key]
    if "." in key or not _MIRP_SUFFIX.match(key):
        return None
    parts = key.split("_")
    for end in range(len(parts) - 1, 1, -1):
        entry = index.get("_".join(parts[:end]))
        if entry is not None:
            return entry
    return None


_PREFERENCE = {"defined": 0, "defined-deviates": 1, "deprecated": 2}


@functools.cache
def pyradiomics_equivalent(code: str) -> FeatureName | None:
    """The pyradiomics feature (original image) that implements IBSI feature ``code``, if any.

    A deprecated pyradiomics alias is taken only when no other feature has the code.

    >>> pyradiomics_equivalent("Q4LE").full
    'original_firstorder_Mean'
    >>> pyradiomics_equivalent("WF0Z").full
    'original_glcm_Idm'
    >>> pyradiomics_equivalent("1PR8") is None
    True
    """
    rows = [r for r in ibsi_table().values() if r.ibsi_code == code and r.status in _PREFERENCE]
    if not rows:
        return None
    best = min(rows, key=lambda r: _PREFERENCE[r.status])
    return FeatureName("original", best.feature_class, best.feature)


def resolve_feature(text: str) -> FeatureName | IbsiName | None:
    """A feature column or cell: a pyradiomics name, an IBSI name with a pyradiomics equivalent
    (its ``FeatureName``), another IBSI name (its ``IbsiName``), or ``None``.

    >>> resolve_feature("Fstat.mean").full, resolve_feature("Fdzm.sde").code
    ('original_firstorder_Mean', '0GBI')
    """
    name = feature_name(text)
    if name is not None:
        return name
    entry = ibsi_name(text)
    if entry is None:
        return None
    return pyradiomics_equivalent(entry.code) or entry


def any_feature_node(
    context: LoadContext, resolved: FeatureName | IbsiName, triples: list[Triple], written: str | None = None,
    described: set[URIRef] | None = None,
) -> URIRef:
    """The feature node of what ``resolve_feature`` found; the name as written is kept as ``skos:altLabel``.

    A pyradiomics equivalent is that feature's node (``feature_node``); an IBSI feature
    pyradiomics lacks gets ``context.mint("feature", "ibsi", <tag>)`` with its code
    (``skos:notation``), RO class, heading and family. ``described``: as for ``feature_node``.
    """
    if isinstance(resolved, FeatureName):
        node = feature_node(context, resolved, triples, described)
    else:
        node = context.mint("feature", "ibsi", resolved.tag)
        triples += [
            (node, RDF.type, IGKG.RadiomicFeature),
            (node, RDFS.label, Literal(f"{resolved.feature} ({resolved.family})")),
            (node, SKOS.notation, Literal(resolved.code)),
            (node, IGKG.roClass, RADO[resolved.code]),
            (node, IGKG.ibsiStatus, Literal(STATUS_TEXT["defined"])),
            (node, IGKG.featureName, Literal(resolved.tag)),
        ]
    if written and written != getattr(resolved, "full", None):
        triples.append((node, SKOS.altLabel, Literal(written)))
    return node
