"""Genotype readers: the same genotypes in every format give the same samples, variants and dosages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loaders._genotypes import GenotypeError, kind_for_path, open_genotypes

TEST_DATA = Path(__file__).resolve().parents[2] / "data"
GOOD = TEST_DATA / "genotypes" / "good"
BAD = TEST_DATA / "genotypes" / "bad"
VCF = TEST_DATA / "vcf"
KEY = ["id", "chrom", "pos", "effect_allele", "other_allele"]


@pytest.fixture(scope="module")
def regenie(shared_data: Path) -> Path:
    return shared_data / "genotypes" / "regenie_example"


def read_all(source, block_size: int = 97) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Every block, stitched back together (checks the blocks tile the variants in order)."""
    parts, expected_start = [], 0
    for block in source.iter_blocks(block_size):
        assert block.variants.start == expected_start
        assert block.dosages.shape == (source.n_samples, block.variants.stop - block.variants.start)
        parts.append(block.dosages)
        expected_start = block.variants.stop
    assert expected_start == source.n_variants
    return np.hstack(parts)


def test_regenie_example_is_the_same_in_plink_pgen_and_bgen(regenie: Path) -> None:
    with (
        open_genotypes(regenie / "example.bed") as plink,
        open_genotypes(regenie / "example", kind="pgen") as pgen,
        open_genotypes(regenie / "example.bgen", id_delim="_") as bgen,
        open_genotypes(regenie / "example.bgen", id_delim="_", use_index=False) as scanned,
    ):
        assert (plink.n_samples, plink.n_variants) == (500, 1000)
        reference = read_all(plink)
        # the example's .bed is hard calls with no missing genotype; values 0/1/2 in every format
        assert set(np.unique(reference)) == {0.0, 1.0, 2.0}
        for other in (pgen, bgen, scanned):
            assert other.samples["iid"].tolist() == plink.samples["iid"].tolist()
            assert other.samples["fid"].tolist() == plink.samples["fid"].tolist()
            pd.testing.assert_frame_equal(other.variants[KEY], plink.variants[KEY])
            np.testing.assert_array_equal(read_all(other, block_size=128), reference)
        assert "variant table from the index example.bgen.bgi" in bgen.notes
        assert "variant table from a pass over the file" in scanned.notes
        # effect allele is .bim column 5 = .pvar ALT = first BGEN allele
        assert plink.variants["effect_allele"].iloc[0] == "1"


def test_sample_subsets_and_unsorted_rows(regenie: Path) -> None:
    rows = np.array([499, 3, 250, 0, 17])
    for name, options in (("example.bed", {}), ("example.pgen", {}), ("example.bgen", {"id_delim": "_"})):
        with open_genotypes(regenie / name, **options) as source:
            full = source.read(10, 60)
            np.testing.assert_array_equal(source.read(10, 60, samples=rows), full[rows])
            blocks = [b.dosages for b in source.iter_blocks(7, samples=rows, start=10, stop=60)]
            np.testing.assert_array_equal(np.hstack(blocks), full[rows])


def _by_iid_and_position(source) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    dosages = read_all(source, block_size=3)
    columns = pd.MultiIndex.from_frame(source.variants[["chrom", "pos"]])
    return pd.DataFrame(dosages, index=source.samples["iid"].to_numpy(), columns=columns)


@pytest.mark.parametrize("name", ["handmade.vcf", "handmade.vcf.gz", "handmade.bcf"])
def test_handmade_vcf_gt_matches_plink2_bed(name: str) -> None:
    with open_genotypes(VCF / name) as vcf, open_genotypes(GOOD / "handmade_gt.bed") as plink:
        assert vcf.kind == "vcf" and vcf.build == "GRCh37"
        pd.testing.assert_frame_equal(vcf.variants[KEY], plink.variants[KEY])
        pd.testing.assert_frame_equal(_by_iid_and_position(vcf), _by_iid_and_position(plink))
        got = _by_iid_and_position(vcf)
        # haploid male X calls count 0/2; half call ./1 and ./. are missing
        assert got.loc["m2", ("X", 3000000)] == 2.0 and got.loc["m1", ("X", 3000000)] == 0.0
        assert np.isnan(got.loc["f2", ("1", 14930)]) and np.isnan(got.loc["m1", ("1", 51479)])
        assert any("sex chromosomes" in note and "X: 3, Y: 1" in note for note in vcf.notes)
        assert vcf.variants["id"].iloc[2] == "1:14930:A:G"  # record without ID


def test_handmade_vcf_ds_matches_plink2_dosages() -> None:
    with open_genotypes(VCF / "handmade.vcf", field="DS") as vcf, open_genotypes(GOOD / "handmade_ds.pgen") as pgen:
        got, expected = _by_iid_and_position(vcf), _by_iid_and_position(pgen)
        # .pgen stores dosages in 1/16384 steps; PLINK 2 doubles haploid DS, as the reader does
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1 / 16384, equal_nan=True)
        assert got.loc["m3", ("X", 10000000)] == pytest.approx(0.4)


def test_regenie_subset_vcf_matches_the_bed(regenie: Path) -> None:
    with open_genotypes(VCF / "regenie_subset.vcf") as vcf, open_genotypes(regenie / "example.bed") as plink:
        assert vcf.samples["iid"].tolist() == plink.samples["iid"].iloc[:40].tolist()
        pd.testing.assert_frame_equal(vcf.variants[KEY], plink.variants[KEY].iloc[:60])
        np.testing.assert_array_equal(read_all(vcf, block_size=25), plink.read(0, 60)[:40])


@pytest.mark.parametrize("name", ["handmade_zstd.bgen", "handmade_zlib.bgen"])
def test_plink2_bgen_exports_match_the_bed(name: str) -> None:
    with open_genotypes(GOOD / name) as bgen, open_genotypes(GOOD / "handmade_gt.bed") as plink:
        pd.testing.assert_frame_equal(bgen.variants[KEY], plink.variants[KEY])
        assert bgen.samples["iid"].tolist() == plink.samples["iid"].tolist()
        np.testing.assert_array_equal(read_all(bgen, 4), read_all(plink, 4))


def test_bgen_sample_file_and_second_allele() -> None:
    with (
        open_genotypes(GOOD / "handmade_zstd.bgen", sample_file=GOOD / "handmade_zstd.sample") as with_file,
        open_genotypes(GOOD / "handmade_zstd.bgen", bgen_ref="first") as second,
        open_genotypes(GOOD / "handmade_zstd.bgen") as first,
    ):
        assert with_file.samples["fid"].tolist() == ["0"] * 6
        assert with_file.samples["iid"].tolist() == ["m1", "m2", "m3", "f1", "f2", "f3"]
        assert (second.variants["effect_allele"] == first.variants["other_allele"]).all()
        np.testing.assert_array_equal(second.read(0, 10), 2 - first.read(0, 10))


def test_multiallelic_records_can_be_skipped_with_a_report() -> None:
    with (
        open_genotypes(BAD / "multiallelic.vcf", on_multiallelic="skip") as vcf,
        open_genotypes(VCF / "handmade.vcf") as full,
    ):
        assert vcf.n_variants == 9
        assert vcf.rejected[["record", "id", "pos"]].values.tolist() == [[4, "rs78601809", 15211]]
        assert "ALT alleles (G,C)" in vcf.rejected["reason"].iloc[0]
        keep = full.variants["id"] != "rs78601809"
        np.testing.assert_array_equal(read_all(vcf, 4), read_all(full, 4)[:, keep.to_numpy()])


def test_kind_from_suffix_or_prefix(regenie: Path) -> None:
    assert kind_for_path(regenie / "example.bed") == "plink"
    assert kind_for_path(regenie / "example.pvar") == "pgen"
    assert kind_for_path(VCF / "handmade.vcf.gz") == "vcf"
    assert kind_for_path(GOOD / "handmade_gt") == "plink"
    with pytest.raises(GenotypeError, match="cannot tell the genotype format"):
        kind_for_path(regenie / "example")  # both .bed and .pgen beside the prefix


def bad_cases() -> list[Path]:
    return sorted(BAD.glob("*.expected"))


@pytest.mark.parametrize("expected", bad_cases(), ids=lambda p: p.name.removesuffix(".expected"))
def test_bad_file_gives_a_clear_error(expected: Path) -> None:
    path = expected.with_name(expected.name.removesuffix(".expected"))
    fragment = expected.read_text().strip()
    with pytest.raises(GenotypeError) as info, open_genotypes(path) as source:
        read_all(source)
    message = str(info.value)
    assert fragment in message
    assert message.startswith(str(path))  # names the file
    assert "(" in message and message.endswith(")")  # ... and says what to do


def test_multiallelic_pgen_is_refused_or_skipped() -> None:
    with pytest.raises(GenotypeError, match=r"line 10, record variant 4: variant 'rs78601809' at 1:15211 is multi"):
        open_genotypes(GOOD / "multiallelic.pgen")
    with (
        open_genotypes(GOOD / "multiallelic.pgen", on_multiallelic="skip") as pgen,
        open_genotypes(BAD / "multiallelic.vcf", on_multiallelic="skip") as vcf,
    ):
        assert pgen.rejected["id"].tolist() == ["rs78601809"]
        pd.testing.assert_frame_equal(pgen.variants[KEY], vcf.variants[KEY])
        np.testing.assert_array_equal(read_all(pgen, 4), read_all(vcf, 4))
