"""Genotype loaders on REGENIE's example (PLINK and BGEN of the same genotypes): variant nodes, subjects,
dosages in the data plane equal to the .bed decoded here bit by bit, variant -> gene links with build checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.core.errors import LoadError

DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = DATA / "genotypes" / "good"


def _example(shared: Path) -> Path:
    return shared / "genotypes" / "regenie_example"


def _decode_bed(prefix: Path) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """PLINK 1 .bed decoded with numpy: dosage of A1 (.bim column 5), NaN missing; samples x variants."""
    bim = pd.read_csv(prefix.with_suffix(".bim"), sep=r"\s+", header=None, names=["chrom", "id", "cm", "pos", "a1", "a2"], dtype=str)
    fam = pd.read_csv(prefix.with_suffix(".fam"), sep=r"\s+", header=None, names=["fid", "iid", "f", "m", "sex", "y"], dtype=str)
    raw = np.fromfile(prefix.with_suffix(".bed"), dtype=np.uint8)
    assert raw[:3].tolist() == [0x6C, 0x1B, 0x01]  # variant-major
    per = (len(fam) + 3) // 4
    codes = np.unpackbits(raw[3:].reshape(len(bim), per)[:, :, None], axis=2, bitorder="little").reshape(len(bim), per * 4, 2)
    pairs = codes[:, : len(fam), 0] + 2 * codes[:, : len(fam), 1]  # 0 hom A1, 1 missing, 2 het, 3 hom A2
    dosage = np.choose(pairs, [2.0, np.nan, 1.0, 0.0])
    return bim, fam, dosage.T


def _plane(kg: KnowledgeGraph, prefix: str) -> pd.DataFrame:
    files = [f for f in kg.matrix_files(kind="genotypes") if f.source_key.startswith(prefix)]
    assert len(files) == 1 and files[0].layout == "by-variable"
    return kg.data_plane.matrix(files)


def test_plink_load_gives_variant_nodes_subjects_and_the_dosages_of_the_bed(kg: KnowledgeGraph, shared_data: Path) -> None:
    example = _example(shared_data)
    report = kg.load(example / "example.bed", build="GRCh37")
    assert report.kind == "plink"
    bim, fam, dosage = _decode_bed(example / "example")
    variants = kg.query("SELECT ?v ?id ?c ?p ?e ?o ?b WHERE { ?v a igkg:Variant ; igkg:identifier ?id ; igkg:chromosome ?c ; "
                        "igkg:position ?p ; igkg:effectAllele ?e ; igkg:otherAllele ?o ; igkg:genomeBuild ?b }")
    assert len(variants) == len(bim)
    assert set(zip(variants["id"].astype(str), variants["p"].astype(int), variants["e"].astype(str), variants["o"].astype(str), strict=True)) == set(
        zip(bim["id"], bim["pos"].astype(int), bim["a1"], bim["a2"], strict=True))
    assert set(variants["b"]) == {"GRCh37"}
    subjects = kg.query("SELECT ?s ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")
    subjects["id"] = subjects["id"].astype(str)
    assert sorted(subjects["id"]) == sorted(fam["iid"])  # IID is the subject id
    matrix = _plane(kg, "plink/")
    ids = dict(zip(subjects["s"], subjects["id"], strict=True))
    order = [list(fam["iid"]).index(ids[s]) for s in matrix.index]
    assert list(matrix.columns) == list(bim["id"])
    np.testing.assert_array_equal(matrix.to_numpy(np.float64), dosage[order])
    triples = kg.stats().triples
    assert triples < 20 * (len(bim) + len(fam))  # never a triple per genotype (500 x 1000 here)


def test_bgen_load_agrees_with_plink(kg: KnowledgeGraph, shared_data: Path) -> None:
    example = _example(shared_data)
    kg.load(example / "example.bed", build="GRCh37")
    report = kg.load(example / "example.bgen", build="GRCh37", id_delim="_")
    assert report.kind == "bgen"
    plink, bgen = _plane(kg, "plink/"), _plane(kg, "bgen/")
    assert list(bgen.columns) == list(plink.columns) and set(bgen.index) == set(plink.index)
    np.testing.assert_allclose(bgen.loc[plink.index].to_numpy(np.float64), plink.to_numpy(np.float64), atol=1e-6)
    n = kg.query("SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE { ?v a igkg:Variant }")
    assert int(n["n"].iloc[0]) == plink.shape[1]  # the same sites are the same nodes


def test_sample_id_rule_fid_iid(kg: KnowledgeGraph, shared_data: Path) -> None:
    example = _example(shared_data)
    kg.load(example / "example.bed", build="GRCh37", sample_id="fid_iid")
    fam = pd.read_csv(example / "example.fam", sep=r"\s+", header=None, dtype=str)
    subjects = kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")
    assert sorted(subjects["id"].astype(str)) == sorted(fam[0] + "_" + fam[1])


def test_gene_ranges_link_variants_to_genes_on_one_build(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(DATA / "genotypes" / "genes" / "Homo_sapiens.gene_info", kind="gene-info")
    glist = shared_data / "genotypes" / "glist-hg19"
    kg.load(GOOD / "handmade_gt.bed", build="GRCh37", gene_ranges=str(glist), window=0)
    ranges = pd.read_csv(glist, sep=r"\s+", header=None, names=["chrom", "start", "end", "symbol"], dtype={"chrom": str})
    bim = pd.read_csv(GOOD / "handmade_gt.bim", sep=r"\s+", header=None, names=["chrom", "id", "cm", "pos", "a1", "a2"], dtype=str)
    genes = pd.read_csv(DATA / "genotypes" / "genes" / "Homo_sapiens.gene_info", sep="\t", dtype=str)
    entrez = dict(zip(genes["Symbol"], genes["GeneID"], strict=True))
    expected = set()
    for row in bim.itertuples():
        inside = ranges[(ranges["chrom"] == row.chrom) & (ranges["start"] <= int(row.pos)) & (ranges["end"] >= int(row.pos))]
        expected |= {(int(row.pos), "http://identifiers.org/ncbigene/" + entrez[s]) for s in inside["symbol"] if s in entrez}
    found = kg.query("SELECT ?p ?g WHERE { ?v igkg:nearGene ?g ; igkg:position ?p }")
    assert expected and set(zip(found["p"].astype(int), found["g"], strict=True)) == expected


@pytest.mark.parametrize("build", [None, "GRCh38"])
def test_build_mixing_is_an_error_and_the_store_is_unchanged(kg: KnowledgeGraph, shared_data: Path, build: str | None) -> None:
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(GOOD / "handmade_gt.bed", build=build, gene_ranges=str(shared_data / "genotypes" / "glist-hg19"))
    assert "handmade_gt.bed" in str(info.value)
    assert ("GRCh38" in str(info.value) and "GRCh37" in str(info.value)) if build else "unknown" in str(info.value)
    assert kg.stats().triples == before and not kg.matrix_files()


def test_truncated_bed_is_a_load_error_and_the_store_is_unchanged(kg: KnowledgeGraph) -> None:
    with pytest.raises(LoadError) as info:
        kg.load(DATA / "genotypes" / "bad" / "truncated.bed")
    assert "truncated.bed" in str(info.value)
    assert (DATA / "genotypes" / "bad" / "truncated.bed.expected").read_text().strip() in str(info.value)
    assert kg.stats().triples == 0 and not kg.matrix_files()


def test_vcf_and_pgen_load(kg: KnowledgeGraph, shared_data: Path) -> None:
    example = _example(shared_data)
    kg.load(example / "example.bed", build="GRCh37")
    kg.load(example / "example.pgen", build="GRCh37")
    plink, pgen = _plane(kg, "plink/"), _plane(kg, "pgen/")
    np.testing.assert_array_equal(pgen.loc[plink.index, plink.columns].to_numpy(np.float64), plink.to_numpy(np.float64))
    report = kg.load(DATA / "vcf" / "regenie_subset.vcf", build="GRCh37")  # plink2 --export vcf of 40 x 60 of it
    assert report.kind == "vcf" and report.records_read == 60
    vcf = _plane(kg, "vcf/")
    assert vcf.shape == (40, 60)
    np.testing.assert_array_equal(vcf.to_numpy(np.float64), plink.loc[vcf.index, vcf.columns].to_numpy(np.float64))
    n = kg.query("SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE { ?v a igkg:Variant }")
    assert int(n["n"].iloc[0]) == plink.shape[1]  # the VCF's sites are the PLINK file's nodes


BAD = DATA / "genotypes" / "bad"


@pytest.mark.parametrize("path", sorted(e.with_suffix("") for e in BAD.glob("*.expected")), ids=lambda p: p.name)
def test_bad_genotype_files_through_the_store_leave_it_unchanged(kg: KnowledgeGraph, path: Path) -> None:
    kg.load(DATA / "genotypes" / "genes" / "Homo_sapiens.gene_info", kind="gene-info")
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(path, build="GRCh37")
    assert path.name in str(info.value)
    assert (BAD / (path.name + ".expected")).read_text().strip() in str(info.value)
    assert kg.stats().triples == before and not kg.matrix_files()


def test_multiallelic_sites_skipped_are_reported_rejections(kg: KnowledgeGraph) -> None:
    pvar = [line.split("\t") for line in (GOOD / "multiallelic.pvar").read_text().splitlines() if not line.startswith("#")]
    multi = {fields[2] for fields in pvar if "," in fields[4]}
    with pytest.raises(LoadError, match="multi-allelic"):
        kg.load(GOOD / "multiallelic.pgen", build="GRCh37")
    report = kg.load(GOOD / "multiallelic.pgen", build="GRCh37", on_multiallelic="skip")
    assert multi and {r.record for r in report.rejected} == multi
    n = kg.query("SELECT (COUNT(DISTINCT ?v) AS ?n) WHERE { ?v a igkg:Variant }")
    assert int(n["n"].iloc[0]) == len(pvar) - len(multi) == _plane(kg, "pgen/").shape[1]
