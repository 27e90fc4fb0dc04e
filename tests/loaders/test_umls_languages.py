"""UMLS strings in every language (issue 12 item 11), on a hand-written MRCONSO.

The shared UMLS samples hold English rows only (checked below), so the language cases use
``tests/data/umls/good/multilingual_META``: invented strings on real-looking CUIs (no UMLS
content is copied). What each concept must get is read off that file here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from kg import KnowledgeGraph
from loaders import get_loader

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
META = Path(__file__).resolve().parents[1] / "data" / "umls" / "good" / "multilingual_META"
TAGS = {"ENG": "en", "FRE": "fr", "GER": "de", "SPA": "es", "JPN": "ja"}


def _rows(path: Path) -> list[list[str]]:
    return [line.split("|")[:18] for line in path.read_text(encoding="utf-8").splitlines() if line]


def _labels(kg: KnowledgeGraph, cui: str, predicate: str) -> set[tuple[str, str]]:
    found = kg.query(
        f"SELECT ?l (LANG(?l) AS ?t) WHERE {{ <http://identifiers.org/umls/{cui}> {predicate} ?l }}"
    )
    return set(zip(found["l"], found["t"], strict=True))


def test_the_shared_samples_have_english_rows_only() -> None:
    """Why the multilingual file is hand-written: no shared MRCONSO has another language."""
    for conso in sorted((SHARED / "umls").glob("*/MRCONSO.RRF")):
        assert {row[1] for row in _rows(conso)} == {"ENG"}, conso


def test_every_language_is_kept_with_its_tag_and_english_preferred(kg: KnowledgeGraph) -> None:
    kg.load(META, kind="umls")
    by_cui: dict[str, list[list[str]]] = defaultdict(list)
    for row in _rows(META / "MRCONSO.RRF"):
        by_cui[row[0]].append(row)
    for cui, rows in by_cui.items():
        kept = {(r[14], TAGS[r[1]]) for r in rows if r[16] not in ("O", "E", "Y")}
        english = [r for r in rows if r[1] == "ENG" and r[16] == "N"]
        pool = english or [r for r in rows if r[16] == "N"]
        best = max(pool, key=lambda r: ((r[2] == "P") * 4 + (r[4] == "PF") * 2 + (r[6] == "Y"), -pool.index(r)))
        preferred = (best[14], TAGS[best[1]])
        assert _labels(kg, cui, "skos:prefLabel") == {preferred}, cui
        assert _labels(kg, cui, "rdfs:label") == {preferred}, cui
        assert _labels(kg, cui, "skos:altLabel") == kept - {preferred}, cui
        suppressed = {r[14] for r in rows if r[16] == "O"}
        assert not suppressed & {label for label, _ in _labels(kg, cui, "skos:altLabel")}


def test_a_concept_named_only_in_french_keeps_its_accented_label(kg: KnowledgeGraph) -> None:
    kg.load(META, kind="umls")
    french_only = [cui for cui, langs in _languages().items() if "ENG" not in langs]
    assert french_only
    for cui in french_only:
        labels = _labels(kg, cui, "rdfs:label")
        assert len(labels) == 1 and next(iter(labels))[1] in {"fr", "es"}
        assert any(ch in next(iter(labels))[0] for ch in "àâçéèêëîïôûùüÿ")


def _languages() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row in _rows(META / "MRCONSO.RRF"):
        if row[16] == "N":
            out[row[0]].add(row[1])
    return out


def test_mesh_translation_rows_are_crosswalked_to_the_descriptor(kg: KnowledgeGraph) -> None:
    kg.load(META, kind="umls")
    expected = {(r[0], r[13]) for r in _rows(META / "MRCONSO.RRF") if r[11].startswith("MSH")}
    assert any(r[11] != "MSH" for r in _rows(META / "MRCONSO.RRF"))
    found = kg.query("SELECT ?c ?m WHERE { ?c skos:exactMatch ?m }")
    assert set(zip(found["c"], found["m"], strict=True)) == {
        (f"http://identifiers.org/umls/{cui}", f"http://id.nlm.nih.gov/mesh/{code}") for cui, code in expected
    }


@pytest.mark.parametrize("languages", ["FRE", "ENG,GER"])
def test_languages_option_restricts(kg: KnowledgeGraph, languages: str) -> None:
    assert "languages" in get_loader("umls").options
    kg.load(META, kind="umls", languages=languages)
    wanted = {TAGS[code] for code in languages.split(",")}
    tags = kg.query("SELECT DISTINCT (LANG(?l) AS ?t) WHERE { ?c skos:prefLabel|skos:altLabel|rdfs:label ?l }")
    assert set(tags["t"]) == wanted
    expected = {r[14] for r in _rows(META / "MRCONSO.RRF") if r[1] in languages.split(",") and r[16] == "N"}
    found = kg.query("SELECT DISTINCT ?l WHERE { ?c skos:prefLabel|skos:altLabel ?l }")
    assert set(found["l"]) == expected
