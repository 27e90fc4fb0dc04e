"""Every bad input file under ``tests/data/**/bad/`` is refused with a clear error, and the store is unchanged.

An item is a file (or folder) of a ``bad/`` folder with a ``<item>.expected`` beside it:
that file holds a fragment the error message must contain. Files sharing an item's stem
are its companions (``x.bim``, ``x.fam`` beside ``x.bed``) and are not loaded alone. The
kind comes from a ``<item>.kind`` sidecar (``kind [option=value ...]``), else from the
source folder (``FOLDER_KINDS``), else from the file name as ``igkg load`` infers it.

Three kinds are not store loaders and are wrapped here: ``genotypes`` (read every block
through ``loaders.open_genotypes``), ``pyradiomics-image`` (the file as the image of a
one-case extraction manifest) and ``pyradiomics-params`` (the file as the ``params``
option of a good one-case manifest); the last two use pyradiomics' sample images from
the shared data.

Each load runs against a fresh on-disk store copied from a template that already holds a
small source, so "unchanged" is checked on real content: same graphs with the same triple
counts, no new file in the store folder besides the database's own, no spool file left.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import KnowledgeGraph
from kg.core.errors import IgkgError

DATA = Path(__file__).resolve().parents[1] / "data"
BASELINE = DATA / "gene_info" / "good" / "Homo_sapiens.gene_info"

FOLDER_KINDS = {
    "disease_ontology": "disease-ontology",
    "expression": "expression",
    "gaf": "gaf",
    "gene_disease": "gene-disease",
    "gene_info": "gene-info",
    "genotypes": "genotypes",
    "gmt": "gmt",
    "hgnc": "hgnc",
    "maf": "maf",
    "mesh": "mesh-xml",
    "obo": "obo",
    "published": "associations",
    "pyradiomics_csv": "pyradiomics-csv",
    "radiomics": "radiomics-csv",
    "reactome": "reactome",
    "umls": "umls",
    "vasari": "vasari",
}
"""Source folder under tests/data -> loader kind; folders not named here (rdf, hpo) infer it from the file name."""

SIDECARS = (".expected", ".kind")
NOTES = {"README.md", "SOURCE.md"}
# RocksDB's own files in a store folder (they change with every write, even a discarded one).
DATABASE_FILE = re.compile(r"^(\d+\.(sst|log|blob)|MANIFEST-\d+|OPTIONS-\d+(\.dbtmp)?|CURRENT|IDENTITY|LOCK|LOG(\.old\.\d+)?)$")


def bad_folders() -> list[Path]:
    return sorted(p for p in DATA.glob("**/bad") if p.is_dir())


def bad_items() -> list[Path]:
    """Every file or folder of a ``bad/`` folder that has an ``.expected`` beside it."""
    return [e.with_name(e.name.removesuffix(".expected")) for folder in bad_folders() for e in sorted(folder.glob("*.expected"))]


def _stem(name: str) -> str:
    return name.split(".", 1)[0]


def test_every_bad_file_has_an_expected_message() -> None:
    items = bad_items()
    assert len(items) >= 60, "the bad files were not found"
    missing = []
    for folder in bad_folders():
        stems = {_stem(item.name) for item in items if item.parent == folder}
        for entry in sorted(folder.iterdir()):
            if entry.name.endswith(SIDECARS) or entry.name in NOTES or entry.name.startswith("."):
                continue
            if not (entry.with_name(entry.name + ".expected").exists() or _stem(entry.name) in stems):
                missing.append(str(entry.relative_to(DATA)))
    assert not missing, f"bad files without a <file>.expected holding the expected error fragment: {missing}"
    for item in items:
        assert item.exists(), f"{item}.expected has no {item.name} beside it"
        assert (item.parent / (item.name + ".expected")).read_text(encoding="utf-8").strip(), f"{item}.expected is empty"


def kind_of(item: Path) -> tuple[str | None, dict[str, str]]:
    """The kind and options for a bad item: its ``.kind`` sidecar, else its source folder, else ``None`` (inferred)."""
    sidecar = item.with_name(item.name + ".kind")
    if sidecar.exists():
        kind, *options = sidecar.read_text(encoding="utf-8").split()
        return kind, dict(option.split("=", 1) for option in options)
    return FOLDER_KINDS.get(item.relative_to(DATA).parts[0]), {}


# -------------------------------------------------------------------- the store
@pytest.fixture(scope="session")
def baseline_template(store_template) -> Path:
    return store_template("bad-files-baseline", lambda kg: kg.load(BASELINE, kind="gene-info"))


@pytest.fixture
def store(baseline_template: Path, fresh_store) -> Iterator[tuple[KnowledgeGraph, Path]]:
    folder = fresh_store(baseline_template)
    with KnowledgeGraph(folder) as kg:
        yield kg, folder


def snapshot(kg: KnowledgeGraph, folder: Path) -> tuple[list[tuple[str, int]], int, list[str]]:
    graphs = kg.graphs()
    rows = sorted(zip(graphs["graph"], graphs["triples"].astype(int), strict=True))
    total = int(kg.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")["n"].iloc[0])
    stray = sorted(p.name for p in folder.iterdir() if not DATABASE_FILE.match(p.name))
    return rows, total, stray


# -------------------------------------------------------------------- loading
def _manifest(folder: Path, image: Path, mask: Path) -> Path:
    path = folder / "manifest.csv"
    path.write_text(f"subject,image,mask\nbad-case,{image},{mask}\n", encoding="utf-8")
    return path


def load_item(kg: KnowledgeGraph, item: Path, work: Path, shared: Path) -> None:
    """Load one bad item the way its kind is used."""
    kind, options = kind_of(item)
    if kind == "genotypes":
        from loaders._genotypes import open_genotypes

        with open_genotypes(item) as source:
            for _ in source.iter_blocks(97):
                pass
        return
    if kind in ("pyradiomics-image", "pyradiomics-params"):
        data = shared / "pyradiomics" / "data"
        params = work / "params.yaml"
        params.write_text("featureClass:\n  firstorder: []\n", encoding="utf-8")
        if kind == "pyradiomics-image":
            manifest = _manifest(work, item, data / "brain1_label.nrrd")
        else:
            manifest, params = _manifest(work, data / "breast1_image.nrrd", data / "breast1_label.nrrd"), item
        kg.load(manifest, kind="pyradiomics", params=params)
        return
    kg.load(item, kind=kind, **options)


def _errors() -> tuple[type[BaseException], ...]:
    from loaders._genotypes import GenotypeError

    return (IgkgError, GenotypeError)


@pytest.mark.parametrize("item", bad_items(), ids=lambda p: str(p.relative_to(DATA)))
def test_bad_file_is_refused_and_the_store_unchanged(
    item: Path, store: tuple[KnowledgeGraph, Path], shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kg, folder = store
    fragment = item.with_name(item.name + ".expected").read_text(encoding="utf-8").strip()
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    work = tmp_path / "work"
    work.mkdir()
    before = snapshot(kg, folder)
    assert before[1] > 0
    with pytest.raises(_errors()) as info:
        load_item(kg, item, work, shared_data)
    message = str(info.value)
    assert fragment in message, f"{item.name}: expected {fragment!r} in the error, got {message!r}"
    assert item.name in message, f"the error does not name the file: {message!r}"
    assert snapshot(kg, folder) == before
    assert not list(spool_dir.iterdir()), "a spool file was left behind"
