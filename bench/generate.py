"""Deterministic N-Triples shaped like a real imaging-genomics graph, at any size.

The shapes are igkg's own (``loaders/_shapes.py``, ``loaders/_genes.py``, ``loaders/_ibsi.py``,
``loaders/reactome.py``): subjects in a cohort, one CT study, image and ROI each, ~1,300
pyradiomics features per ROI over 14 image types (93 texture/intensity features per
image type plus 14 shape features), an EGFR marker status per subject, up to 20,000 genes
(NCBI Gene IRIs with HGNC matches), 2,500 Reactome-like pathways with a hierarchy and
memberships, a MeSH-like descriptor tree under D009369 with gene-disease links, and
radiogenomic associations with statistic, effect size, p, q, n, method, cohort and run.

The reference part (genes, pathways, MeSH) is full size from 1M triples up and scaled down
below that; associations take ~10 % and imaging measurements the rest. Same seed and size,
same bytes.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "g.nt"
>>> shape = generate(path, 50_000, seed=1)
>>> shape.triples == sum(1 for _ in open(path))
True
>>> shape.features_per_roi, len(IMAGE_TYPES)
(1316, 14)
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from kg.core.namespaces import HGNC, IGKG, MESH, MESHV, NCBIGENE, OBO, PROV, RDF, RDFS, REACTOME, SKOS, XSD
from kg.core.iris import DEFAULT_INSTANCE_BASE

__all__ = ["FEATURES", "IMAGE_TYPES", "Shape", "generate", "parse_size", "size_label"]

IMAGE_TYPES = (
    "original",
    "wavelet-LLL", "wavelet-LLH", "wavelet-LHL", "wavelet-LHH",
    "wavelet-HLL", "wavelet-HLH", "wavelet-HHL", "wavelet-HHH",
    "log-sigma-1-0-mm-3D", "log-sigma-3-0-mm-3D",
    "square", "squareroot", "logarithm",
)  # fmt: skip
"""14 pyradiomics image types (original, 8 wavelet bands, 2 LoG sigmas, 3 filters)."""

# pyradiomics 3.0.1 feature names per class (firstorder 18, glcm 24, glrlm 16, glszm 16, gldm 14, ngtdm 5).
FEATURES: dict[str, tuple[str, ...]] = {
    "firstorder": (
        "10Percentile", "90Percentile", "Energy", "Entropy", "InterquartileRange", "Kurtosis", "Maximum",
        "MeanAbsoluteDeviation", "Mean", "Median", "Minimum", "Range", "RobustMeanAbsoluteDeviation",
        "RootMeanSquared", "Skewness", "TotalEnergy", "Uniformity", "Variance",
    ),
    "glcm": (
        "Autocorrelation", "ClusterProminence", "ClusterShade", "ClusterTendency", "Contrast", "Correlation",
        "DifferenceAverage", "DifferenceEntropy", "DifferenceVariance", "Id", "Idm", "Idmn", "Idn", "Imc1",
        "Imc2", "InverseVariance", "JointAverage", "JointEnergy", "JointEntropy", "MCC", "MaximumProbability",
        "SumAverage", "SumEntropy", "SumSquares",
    ),
    "glrlm": (
        "GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized", "GrayLevelVariance",
        "HighGrayLevelRunEmphasis", "LongRunEmphasis", "LongRunHighGrayLevelEmphasis",
        "LongRunLowGrayLevelEmphasis", "LowGrayLevelRunEmphasis", "RunEntropy", "RunLengthNonUniformity",
        "RunLengthNonUniformityNormalized", "RunPercentage", "RunVariance", "ShortRunEmphasis",
        "ShortRunHighGrayLevelEmphasis", "ShortRunLowGrayLevelEmphasis",
    ),
    "glszm": (
        "GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized", "GrayLevelVariance",
        "HighGrayLevelZoneEmphasis", "LargeAreaEmphasis", "LargeAreaHighGrayLevelEmphasis",
        "LargeAreaLowGrayLevelEmphasis", "LowGrayLevelZoneEmphasis", "SizeZoneNonUniformity",
        "SizeZoneNonUniformityNormalized", "SmallAreaEmphasis", "SmallAreaHighGrayLevelEmphasis",
        "SmallAreaLowGrayLevelEmphasis", "ZoneEntropy", "ZonePercentage", "ZoneVariance",
    ),
    "gldm": (
        "DependenceEntropy", "DependenceNonUniformity", "DependenceNonUniformityNormalized",
        "DependenceVariance", "GrayLevelNonUniformity", "GrayLevelVariance", "HighGrayLevelEmphasis",
        "LargeDependenceEmphasis", "LargeDependenceHighGrayLevelEmphasis", "LargeDependenceLowGrayLevelEmphasis",
        "LowGrayLevelEmphasis", "SmallDependenceEmphasis", "SmallDependenceHighGrayLevelEmphasis",
        "SmallDependenceLowGrayLevelEmphasis",
    ),
    "ngtdm": ("Busyness", "Coarseness", "Complexity", "Contrast", "Strength"),
}  # fmt: skip
SHAPE = (
    "Elongation", "Flatness", "LeastAxisLength", "MajorAxisLength", "Maximum2DDiameterColumn",
    "Maximum2DDiameterRow", "Maximum2DDiameterSlice", "Maximum3DDiameter", "MeshVolume", "MinorAxisLength",
    "Sphericity", "SurfaceArea", "SurfaceVolumeRatio", "VoxelVolume",
)  # fmt: skip
_CLASS = {
    "shape": IGKG.ShapeFeature, "firstorder": IGKG.FirstOrderFeature, "glcm": IGKG.GLCMFeature,
    "glrlm": IGKG.GLRLMFeature, "glszm": IGKG.GLSZMFeature, "gldm": IGKG.GLDMFeature, "ngtdm": IGKG.NGTDMFeature,
}  # fmt: skip
# Real genes first, so that the named queries' defaults (EGFR ...) find something.
_REAL_GENES = (("EGFR", 1956, 3236), ("KRAS", 3845, 6407), ("TP53", 7157, 11998), ("ALK", 238, 427), ("BRAF", 673, 1097))
FULL_GENES, FULL_PATHWAYS, FULL_DESCRIPTORS = 20_000, 2_500, 5_000
_STATO_SPEARMAN = OBO + "STATO_0000201"
_DOUBLE, _INTEGER = f"^^<{XSD.double}>", f"^^<{XSD.integer}>"


@dataclass(frozen=True)
class Shape:
    """What one generated file holds (the counts its SPARQL must find)."""

    triples: int
    subjects: int
    rois: int
    features_per_roi: int
    measurements: int
    genes: int
    pathways: int
    descriptors: int
    associations: int
    seed: int

    def to_dict(self) -> dict[str, int]:
        """A JSON-ready view."""
        return asdict(self)


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1M`` -> 1000000, ``2.5M`` -> 2500000.

    >>> parse_size("10M"), parse_size("100k"), parse_size("5000")
    (10000000, 100000, 5000)
    """
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "kmg" else text
    return int(float(number) * factor)


def size_label(n: int) -> str:
    """1000000 -> '1M', 100000 -> '100k'."""
    for unit, factor in (("M", 1_000_000), ("k", 1_000)):
        if n >= factor and n % (factor // 10 or 1) == 0:
            value = n / factor
            return f"{value:g}{unit}"
    return str(n)


def _iri(base: str, *parts: object) -> str:
    return "<" + base + "/".join(quote(str(p), safe="-._~") for p in parts) + ">"


def _s(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _feature_names() -> list[tuple[str, str, str]]:
    """(image type, class, feature) for the ~1,300 features of one ROI."""
    names = [("original", "shape", f) for f in SHAPE]
    for image_type in IMAGE_TYPES:
        for cls, features in FEATURES.items():
            names += [(image_type, cls, f) for f in features]
    return names


def generate(path: str | Path, target: int, *, seed: int = 42) -> Shape:
    """Write about ``target`` triples of N-Triples to ``path``; returns the exact ``Shape``."""
    rng = random.Random(seed)
    base = DEFAULT_INSTANCE_BASE
    a, label = f"<{RDF.type}>", f"<{RDFS.label}>"
    features = _feature_names()
    feature_triples = len(features) * 6
    reference_full = FULL_GENES * 7 + FULL_PATHWAYS * 3 + FULL_DESCRIPTORS * 4
    scale = min(1.0, max(0.02, 0.3 * target / reference_full))
    n_genes = max(len(_REAL_GENES), int(FULL_GENES * scale))
    n_pathways = max(5, int(FULL_PATHWAYS * scale))
    n_descriptors = max(5, int(FULL_DESCRIPTORS * scale))
    reference = n_genes * 7 + n_pathways * 3 + n_descriptors * 4
    n_associations = max(10, int(0.1 * target) // 11)
    per_roi = len(features) * 5 + 19
    n_subjects = max(1, round((target - reference - feature_triples - n_associations * 11) / per_roi))
    count = 0
    with open(path, "w", encoding="utf-8", buffering=1 << 22) as out:
        lines: list[str] = []

        def emit(s: str, p: str, o: str) -> None:
            lines.append(f"{s} {p} {o} .\n")

        # -- features (loaders/ibsi.py shape)
        feature_iris = []
        for image_type, cls, name in features:
            full = f"{image_type}_{cls}_{name}"
            node = _iri(base, "feature", full)
            feature_iris.append(node)
            emit(node, a, f"<{_CLASS[cls]}>")
            emit(node, label, _s(full))
            emit(node, f"<{IGKG.pyradiomicsName}>", _s(full))
            emit(node, f"<{IGKG.featureClass}>", _s(cls))
            emit(node, f"<{IGKG.imageType}>", _s(image_type))
            emit(node, f"<{IGKG.baseFeature}>", _iri(base, "feature", f"original_{cls}_{name}"))
        # -- genes (loaders/genes.py shape): 7 triples each with memberships
        genes = []
        for i in range(n_genes):
            if i < len(_REAL_GENES):
                symbol, entrez, hgnc = _REAL_GENES[i]
            else:
                symbol, entrez, hgnc = f"GENE{i}", 100_000 + i, 50_000 + i
            node = f"<{NCBIGENE}{entrez}>"
            genes.append(node)
            emit(node, a, f"<{IGKG.Gene}>")
            emit(node, label, _s(symbol))
            emit(node, f"<{IGKG.geneName}>", _s(f"{symbol} gene"))
            emit(node, f"<{SKOS.exactMatch}>", f"<{HGNC}{hgnc}>")
        # -- pathways (loaders/reactome.py shape) with a hierarchy, and memberships
        pathways = [f"<{REACTOME}R-HSA-{900_000 + i}>" for i in range(n_pathways)]
        for i, node in enumerate(pathways):
            emit(node, a, f"<{IGKG.Pathway}>")
            emit(node, label, _s(f"Pathway {i}"))
            emit(node, f"<{IGKG.subPathwayOf}>", pathways[(i - 1) // 4] if i else pathways[0])
        for gene in genes:
            for pathway in rng.sample(pathways, min(3, len(pathways))):
                emit(gene, f"<{IGKG.memberOf}>", pathway)
        # -- MeSH-like descriptor tree under Neoplasms, with gene-disease shortcut edges
        descriptors = [f"<{MESH}D009369>"] + [f"<{MESH}D{900_000 + i:06d}>" for i in range(1, n_descriptors)]
        for i, node in enumerate(descriptors):
            emit(node, a, f"<{MESHV.TopicalDescriptor}>")
            emit(node, label, _s("Neoplasms" if i == 0 else f"Neoplasm subtype {i}"))
            emit(node, f"<{MESHV.broaderDescriptor}>", descriptors[(i - 1) // 5] if i else f"<{MESH}D000000>")
            emit(genes[i % len(genes)], f"<{IGKG.associatedWithDisease}>", node)
        # -- cohort, EGFR marker, run
        cohort = _iri(base, "cohort", "BENCH")
        emit(cohort, a, f"<{IGKG.Cohort}>")
        emit(cohort, label, _s("BENCH"))
        marker = _iri(base, "marker", "egfr-mutation-status")
        emit(marker, a, f"<{IGKG.Marker}>")
        emit(marker, label, _s("EGFR mutation status"))
        emit(marker, f"<{IGKG.gene}>", genes[0])
        run = _iri(base, "analysis", f"bench-{seed}")
        emit(run, a, f"<{IGKG.AnalysisRun}>")
        out.write("".join(lines))
        count += len(lines)
        lines.clear()
        # -- imaging: subject, study, image, ROI, EGFR status, 1,316 measurements
        measurements = 0
        for sid in range(n_subjects):
            ident = f"BENCH-{sid:05d}"
            subject = _iri(base, "subject", ident)
            study = _iri(base, "study", ident, "1")
            image = _iri(base, "image", ident, "1", "CT")
            roi = _iri(base, "roi", ident, "GTV")
            emit(subject, a, f"<{IGKG.Subject}>")
            emit(subject, f"<{IGKG.identifier}>", _s(ident))
            emit(subject, label, _s(ident))
            emit(subject, f"<{IGKG.inCohort}>", cohort)
            emit(study, a, f"<{IGKG.ImagingStudy}>")
            emit(study, f"<{IGKG.subject}>", subject)
            emit(image, a, f"<{IGKG.Image}>")
            emit(image, f"<{IGKG.study}>", study)
            emit(image, f"<{IGKG.modality}>", _s("CT"))
            emit(roi, a, f"<{IGKG.Segmentation}>")
            emit(roi, f"<{IGKG.image}>", image)
            emit(roi, f"<{IGKG.subject}>", subject)
            emit(roi, f"<{IGKG.label}>", f'"1"{_INTEGER}')
            status = _iri(base, "marker-status", "bench", ident, "egfr-mutation-status")
            emit(status, a, f"<{IGKG.MarkerStatus}>")
            emit(status, f"<{IGKG.subject}>", subject)
            emit(status, f"<{IGKG.marker}>", marker)
            emit(status, f"<{IGKG.status}>", _s("Mutant" if rng.random() < 0.3 else "Wildtype"))
            emit(status, f"<{IGKG.value}>", f'"{rng.random():.6e}"{_DOUBLE}')
            emit(roi, label, _s("GTV"))
            for feature, (image_type, cls, name) in zip(feature_iris, features, strict=True):
                node = _iri(base, "measurement", "bench", ident, f"{image_type}_{cls}_{name}")
                emit(node, a, f"<{IGKG.FeatureMeasurement}>")
                emit(node, f"<{IGKG.feature}>", feature)
                emit(node, f"<{IGKG.subject}>", subject)
                emit(node, f"<{IGKG.roi}>", roi)
                emit(node, f"<{IGKG.value}>", f'"{rng.gauss(0.0, 1.0):.6e}"{_DOUBLE}')
            measurements += len(features)
            out.write("".join(lines))
            count += len(lines)
            lines.clear()
        # -- radiogenomic associations with statistics
        for i in range(n_associations):
            node = _iri(base, "association", f"bench-{seed}", str(i))
            rho = rng.uniform(-0.9, 0.9)
            p = min(1.0, math.exp(rng.uniform(-20.0, 0.0)))
            emit(node, a, f"<{IGKG.RadiogenomicAssociation}>")
            emit(node, f"<{IGKG.feature}>", feature_iris[rng.randrange(len(feature_iris))])
            emit(node, f"<{IGKG.target}>", genes[0] if i % 50 == 0 else genes[rng.randrange(len(genes))])
            emit(node, f"<{IGKG.method}>", f"<{_STATO_SPEARMAN}>")
            emit(node, f"<{IGKG.statistic}>", f'"{rho:.6e}"{_DOUBLE}')
            emit(node, f"<{IGKG.effectSize}>", f'"{rho:.6e}"{_DOUBLE}')
            emit(node, f"<{IGKG.pValue}>", f'"{p:.6e}"{_DOUBLE}')
            emit(node, f"<{IGKG.qValue}>", f'"{min(1.0, p * 50):.6e}"{_DOUBLE}')
            emit(node, f"<{IGKG.sampleSize}>", f'"{n_subjects}"{_INTEGER}')
            emit(node, f"<{IGKG.cohort}>", cohort)
            emit(node, f"<{PROV.wasGeneratedBy}>", run)
            if len(lines) >= 100_000:
                out.write("".join(lines))
                count += len(lines)
                lines.clear()
        out.write("".join(lines))
        count += len(lines)
    return Shape(
        triples=count,
        subjects=n_subjects,
        rois=n_subjects,
        features_per_roi=len(features),
        measurements=measurements,
        genes=n_genes,
        pathways=n_pathways,
        descriptors=n_descriptors,
        associations=n_associations,
        seed=seed,
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.generate 1M out.nt [--seed 42]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("size", help="triples: 100k, 1M, 10M ...")
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    shape = generate(args.output, parse_size(args.size), seed=args.seed)
    print(shape.to_dict())


if __name__ == "__main__":
    main()
