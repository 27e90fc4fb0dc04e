"""The README's main command: the demo builds the graph from the bundled data, finds associations,
prints the radiogenomic chain in readable tables and draws the plots. Expected values are read
from the bundled files (and scipy), never written here."""

from __future__ import annotations

import csv
import gzip
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from examples.demo import DATA, IMAGENE, NSCLC, SOURCES
from kg import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[2]
LUNG = DATA / "imagene_lung"


def test_every_bundled_file_has_its_source_and_licence_beside_it() -> None:
    for source in SOURCES:
        path = DATA / source.path
        assert path.exists(), path
        folder = path if path.is_dir() else path.parent
        assert (folder / "SOURCE.md").is_file(), f"{folder} has no SOURCE.md"
        if path.is_file():
            assert path.name in (folder / "SOURCE.md").read_text(), f"{path.name} is not described in SOURCE.md"


def test_the_demo_loads_the_full_gene_table_not_a_hand_written_one() -> None:
    kinds = {(s.path, s.kind) for s in SOURCES}
    assert ("genes/Homo_sapiens.gene_info.gz", "gene-info") in kinds
    assert not any(s.path.endswith("nsclc_markers.gene_info") for s in SOURCES)
    assert {"hpo-genes-to-disease", "disease-ontology", "expression"} <= {s.kind for s in SOURCES}


def test_readme_sets_up_with_two_commands_and_its_pictures_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert setup.split() == ["make", "demo", "make", "test"]
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {"docs/img/demo_lung_volcano.png", "docs/img/bench.png"} <= set(pictures)
    for picture in pictures:
        assert (ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", picture


def _egfr_record() -> list[str]:
    with gzip.open(DATA / "genes" / "Homo_sapiens.gene_info.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) > 2 and fields[2] == "EGFR":
                return fields
    raise AssertionError("no EGFR record in the bundled gene_info")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the whole demo: every bundled source, two analyses, reasoning
def test_demo_builds_answers_and_draws(tmp_path: Path) -> None:
    store, figures = tmp_path / "store", tmp_path / "figures"
    result = subprocess.run(
        [sys.executable, "-m", "examples.demo", "--store", str(store), "--figures", str(figures), "--no-serve"],
        check=False, capture_output=True, text=True, cwd=ROOT, timeout=3600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    # readable output: at most 5% of the printed lines are wider than 160 characters
    assert sum(len(line) > 160 for line in lines) <= 0.05 * len(lines)
    feature = re.search(r"^== The chain of one feature: (\S+)$", result.stdout, re.MULTILINE).group(1)
    gene = re.search(r"^== The features that track one gene: (\S+)$", result.stdout, re.MULTILINE).group(1)
    drawn = [Path(line.split(": ", 1)[1]) for line in lines if line.startswith("figure: ")]
    assert len(drawn) >= 4
    for path in drawn:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path

    with KnowledgeGraph(store, read_only=True) as kg:
        sources = set(kg.graphs()["source"])
        assert len([s for s in sources if not s.startswith(("associations/", "inferences/"))]) == len(SOURCES)

        # Every NSCLC subject of the features table is a Subject with its 107 features.
        with (DATA / "nsclc" / "nsclc_radiogenomics_original_features.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        features = [c for c in rows[0] if c.startswith("original_")]
        counts = kg.query(
            "SELECT ?id (COUNT(DISTINCT ?f) AS ?n) WHERE { ?m a igkg:FeatureMeasurement ; igkg:subject ?s ; "
            "igkg:feature ?f . ?f igkg:pyradiomicsName ?name . FILTER(STRSTARTS(?name, 'original_')) "
            "?s igkg:identifier ?id ; igkg:inCohort/rdfs:label ?cohort . FILTER(?cohort = 'NSCLC-Radiogenomics') } GROUP BY ?id"
        )
        by_subject = dict(zip(counts["id"], counts["n"], strict=True))
        for row in rows:
            assert by_subject[row["Case ID"]] == len(features)

        # EGFR named by alias, HGNC, Entrez or Ensembl id (as NCBI's gene_info gives them) reaches
        # the same NSCLC associations: one per feature, every result of the marker run stored.
        record = _egfr_record()
        xrefs = dict(x.split(":", 1) for x in record[5].split("|") if ":" in x)
        for name in (record[4].split("|")[0], "HGNC:" + xrefs["HGNC"].removeprefix("HGNC:"), record[1], xrefs["Ensembl"], "egfr"):
            answer = kg.ask("features_for_gene", gene=name)
            nsclc = answer[answer["cohort"] == NSCLC]
            assert set(nsclc["feature_name"]) == set(features), name

        # the lung pair has signal: associations with q <= 0.05, each a Spearman correlation that
        # scipy reproduces from the two bundled tables
        significant = kg.query(
            "SELECT ?feature ?gene ?rho ?q ?n WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:qValue ?q ; "
            "igkg:statistic ?rho ; igkg:sampleSize ?n ; igkg:cohort/rdfs:label ?cohort ; "
            "igkg:feature/igkg:pyradiomicsName ?feature ; igkg:target/rdfs:label ?gene . "
            "FILTER(?cohort = ?lung && ?q <= 0.05) } ORDER BY ?q ?feature ?gene",
            {"lung": IMAGENE},  # bound inside the WHERE group, so the FILTER sees it
        )
        assert len(significant) > 0
        radiomic = pd.read_csv(LUNG / "Lung_radiomic_features_new_cohort_n44.csv", index_col=0)
        expression = pd.read_csv(LUNG / "Lung_gene_expression_new_cohort_n44.csv", index_col=0)
        for row in significant.head(5).itertuples():
            x, y = radiomic[row.feature].align(expression[row.gene], join="inner")
            rho = stats.spearmanr(x, y).statistic
            assert abs(rho - row.rho) < 1e-9 and row.n == len(x)

        # the chain the demo printed has rows in the graph: diseases for the feature, features for the gene
        diseases = kg.ask("diseases_for_feature", feature=feature, q_max=0.05)
        assert len(diseases) > 0 and (diseases["best_q"] <= 0.05).all()
        assert len(kg.ask("features_for_gene", gene=gene, q_max=0.05)) > 0
