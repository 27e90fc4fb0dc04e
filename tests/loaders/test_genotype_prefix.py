"""Genotypes named by their prefix (``data/example`` for ``example.bed/.bim/.fam``): the loader's ``resolve``
hook maps it to the file before the store's existence check; the kind comes from the sibling files; the
source is the resolved file, whose fingerprint covers the ``.bim``/``.fam`` beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.core.errors import LoadError

DATA = Path(__file__).resolve().parents[1] / "data"


def _copy(shared: Path, folder: Path, suffixes: tuple[str, ...]) -> Path:
    example = shared / "genotypes" / "regenie_example"
    for suffix in suffixes:
        shutil.copyfile(example / f"example{suffix}", folder / f"example{suffix}")
    return folder / "example"


def _subject_ids(kg: KnowledgeGraph) -> set[str]:
    return set(kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")["id"].astype(str))


def test_plink_prefix_loads_as_its_bed_with_or_without_kind(shared_data: Path, tmp_path: Path) -> None:
    prefix = _copy(shared_data, tmp_path, (".bed", ".bim", ".fam"))
    assert not prefix.exists()
    fam = pd.read_csv(tmp_path / "example.fam", sep=r"\s+", header=None, dtype=str)
    bim = pd.read_csv(tmp_path / "example.bim", sep=r"\s+", header=None, dtype=str)
    with KnowledgeGraph(None) as kg:
        report = kg.load(prefix, kind="plink", build="GRCh37")
        assert report.kind == "plink" and report.source == str(tmp_path / "example.bed")
        assert report.records_read == len(bim) and _subject_ids(kg) == set(fam[1])
        assert [f.source_key for f in kg.matrix_files(kind="genotypes")] == ["plink/example.bed"]
        again = kg.load(tmp_path / "example.bed", build="GRCh37")  # the prefix and the file are one source
        assert again.skipped
    with KnowledgeGraph(None) as kg:
        report = kg.load(prefix, build="GRCh37")  # kind from the sibling .bed
        assert report.kind == "plink" and not report.skipped


def test_a_changed_fam_beside_the_bed_forces_a_reload(shared_data: Path, tmp_path: Path) -> None:
    prefix = _copy(shared_data, tmp_path, (".bed", ".bim", ".fam"))
    with KnowledgeGraph(None) as kg:
        kg.load(prefix, build="GRCh37")
        assert kg.load(prefix, build="GRCh37").skipped
        fam = (tmp_path / "example.fam").read_text().splitlines()
        first = fam[0].split()
        fam[0] = " ".join([first[0], "renamed_sample", *first[2:]])
        (tmp_path / "example.fam").write_text("\n".join(fam) + "\n")
        report = kg.load(prefix, build="GRCh37")
        assert not report.skipped
        ids = _subject_ids(kg)
        assert "renamed_sample" in ids and first[1] not in ids  # the new version replaced the old one


def test_pgen_prefix_and_a_prefix_of_two_kinds(shared_data: Path, tmp_path: Path) -> None:
    prefix = _copy(shared_data, tmp_path, (".bed", ".bim", ".fam", ".pgen", ".pvar", ".psam"))
    with KnowledgeGraph(None) as kg:
        with pytest.raises(LoadError) as info:
            kg.load(prefix, build="GRCh37")
        assert "several kinds" in str(info.value) and "plink" in str(info.value) and "pgen" in str(info.value)
        assert "--kind" in str(info.value) and kg.stats().triples == 0
        report = kg.load(prefix, kind="pgen", build="GRCh37")
        assert report.kind == "pgen" and report.source.endswith("example.pgen")


def test_prefix_without_its_companions_is_file_not_found(shared_data: Path, tmp_path: Path) -> None:
    prefix = _copy(shared_data, tmp_path, (".bed", ".bim"))  # no .fam
    with KnowledgeGraph(None) as kg:
        with pytest.raises(LoadError) as info:
            kg.load(prefix, kind="plink")
        assert "file not found" in str(info.value) and "example" in str(info.value)
        assert kg.stats().triples == 0
