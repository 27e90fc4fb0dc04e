"""IBSI conformance report: igkg's features on the IBSI digital phantom against the manual's reference values.

The IBSI reference manual (chapter "Image features", source ``03_Image_features.rst``) gives
each feature a heading, its 4-character code (``<p ...>CODE</p>`` under the heading) and a
table of reference values; the ``dig. phantom`` rows hold the values for the 5x4x4 digital
phantom, per aggregation method for texture features. ``parse_manual`` reads all of that.

``conformance_report`` extracts the phantom through igkg's own extraction code
(``loaders.pyradiomics.extract_case``) with the settings the manual prescribes for
it (``PHANTOM_SETTINGS``: no resampling, no re-segmentation, the phantom's integer grey levels
as discretised levels, i.e. bin width 1, IBSI energy without intensity shift, symmetric GLCM,
distance 1, NGLDM alpha 0), then compares every IBSI feature with its reference:

- texture aggregation as pyradiomics computes it: ``3D, averaged`` for GLCM and GLRLM
  (features per direction, then averaged), ``3D`` for GLSZM, NGTDM and NGLDM;
- a reference with a tolerance matches when ``|value - reference| <= tolerance``; a reference
  without one (``—``; the manual gives phantom values to 3 significant digits) matches when
  the value rounded to 3 significant digits equals it.

Rows that differ carry pyradiomics' documented reason (from ``ontologies/ibsi_features.tsv``
and pyradiomics' docstrings). ``igkg ibsi-report`` (``kg.cli.ibsi``) writes the table as CSV or Markdown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kg.core.errors import ConfigError, IgkgError
from kg.core.settings import Settings

__all__ = [
    "AGGREGATION",
    "PHANTOM_SETTINGS",
    "IbsiFeature",
    "ReferenceValue",
    "conformance_report",
    "default_paths",
    "parse_manual",
    "parse_number",
    "within_tolerance",
    "write_report",
]

PHANTOM_SETTINGS: dict[str, Any] = {
    "setting": {
        "binWidth": 1,
        "voxelArrayShift": 0,
        "resampledPixelSpacing": None,
        "interpolator": None,
        "normalize": False,
        "resegmentRange": None,
        "removeOutliers": None,
        "symmetricalGLCM": True,
        "distances": [1],
        "gldm_a": 0,
        "force2D": False,
        "label": 1,
        "minimumROIDimensions": 1,
        "additionalInfo": True,
    },
    "imageType": {"Original": {}},
    "featureClass": {
        "shape": [], "firstorder": [], "glcm": [], "glrlm": [], "glszm": [], "gldm": [], "ngtdm": [],
    },
}
"""pyradiomics parameters for the IBSI digital phantom (see the module docstring)."""

AGGREGATION: dict[str, str] = {
    "Grey level co-occurrence based features": "3D, averaged",
    "Grey level run length based features": "3D, averaged",
    "Grey level size zone based features": "3D",
    "Grey level distance zone based features": "3D",
    "Neighbourhood grey tone difference based features": "3D",
    "Neighbouring grey level dependence based features": "3D",
}
"""IBSI family -> the aggregation method matching how pyradiomics computes it."""

_CODE = re.compile(r"<p[^>]*>\s*([A-Z0-9]{4})\s*</p>")


@dataclass(frozen=True)
class ReferenceValue:
    """One row of a reference-value table: data set, aggregation, value and tolerance as written.

    >>> import pathlib, tempfile
    >>> manual = pathlib.Path(tempfile.mkdtemp()) / "03_Image_features.rst"
    >>> _ = manual.write_text('''Morphological features
    ... ----------------------
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">HCUG</p>
    ...
    ... Volume (mesh)
    ... ^^^^^^^^^^^^^
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">RNU0</p>
    ...
    ... .. table:: Reference values for the *volume (mesh)* feature.
    ...
    ...    +--------------+-------+------+-------------+
    ...    | data         | value | tol. | consensus   |
    ...    +==============+=======+======+=============+
    ...    | dig. phantom | 556   | 4    | very strong |
    ...    +--------------+-------+------+-------------+
    ... ''')
    >>> (feature,) = parse_manual(manual)
    >>> feature.references
    [ReferenceValue(data='dig. phantom', aggregation=None, value='556', tolerance='4', consensus='very strong')]
    """

    data: str
    aggregation: str | None
    value: str
    tolerance: str
    consensus: str

    @property
    def number(self) -> float | None:
        """The value as a number (``None`` when the manual gives none).

        >>> ReferenceValue("dig. phantom", None, "556", "4", "very strong").number
        556.0
        """
        return parse_number(self.value)

    @property
    def tol(self) -> float | None:
        """The tolerance as a number (``None`` for ``—``).

        >>> ReferenceValue("dig. phantom", None, "556", "—", "very strong").tol is None
        True
        """
        return parse_number(self.tolerance)


@dataclass
class IbsiFeature:
    """A feature heading of the manual: its name, family, code (if given) and reference values.

    >>> import pathlib, tempfile
    >>> manual = pathlib.Path(tempfile.mkdtemp()) / "03_Image_features.rst"
    >>> _ = manual.write_text('''Morphological features
    ... ----------------------
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">HCUG</p>
    ...
    ... Volume (mesh)
    ... ^^^^^^^^^^^^^
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">RNU0</p>
    ...
    ... .. table:: Reference values for the *volume (mesh)* feature.
    ...
    ...    +--------------+-------+------+-------------+
    ...    | data         | value | tol. | consensus   |
    ...    +==============+=======+======+=============+
    ...    | dig. phantom | 556   | 4    | very strong |
    ...    +--------------+-------+------+-------------+
    ... ''')
    >>> (feature,) = parse_manual(manual)
    >>> feature.heading, feature.family, feature.code, feature.line
    ('Volume (mesh)', 'Morphological features', 'RNU0', 7)
    """

    heading: str
    family: str
    code: str | None
    line: int
    references: list[ReferenceValue] = field(default_factory=list)

    def phantom_reference(self) -> ReferenceValue | None:
        """The ``dig. phantom`` reference for the aggregation pyradiomics uses, if the manual has one.

        >>> import pathlib, tempfile
        >>> manual = pathlib.Path(tempfile.mkdtemp()) / "03_Image_features.rst"
        >>> _ = manual.write_text('''Morphological features
        ... ----------------------
        ... .. raw:: html
        ...
        ...   <p style="color:grey;font-style:italic;text-align:right">HCUG</p>
        ...
        ... Volume (mesh)
        ... ^^^^^^^^^^^^^
        ... .. raw:: html
        ...
        ...   <p style="color:grey;font-style:italic;text-align:right">RNU0</p>
        ...
        ... .. table:: Reference values for the *volume (mesh)* feature.
        ...
        ...    +--------------+-------+------+-------------+
        ...    | data         | value | tol. | consensus   |
        ...    +==============+=======+======+=============+
        ...    | dig. phantom | 556   | 4    | very strong |
        ...    +--------------+-------+------+-------------+
        ... ''')
        >>> (feature,) = parse_manual(manual)
        >>> feature.phantom_reference().number, feature.phantom_reference().tol
        (556.0, 4.0)
        """
        wanted = AGGREGATION.get(self.family)
        for ref in self.references:
            if ref.data == "dig. phantom" and (wanted is None or ref.aggregation == wanted):
                return ref
        return None


def clean_heading(text: str) -> str:
    """A heading without rst markup: ``10\\ :sup:`th` intensity percentile`` -> ``10th intensity percentile``.

    >>> clean_heading("10\\\\ :sup:`th` intensity percentile")
    '10th intensity percentile'
    """
    text = re.sub(r":\w+:`([^`]*)`", r"\1", text)
    text = text.replace("\\ ", "").replace("\\", "")
    return " ".join(text.split())


def parse_number(text: str) -> float | None:
    """A number as the manual writes it (``:math:`3.58 \\times 10^{5}```, ``:math:`-`\\ 0.355``), or ``None``.

    >>> parse_number(":math:`3.58 \\\\times 10^{5}`"), parse_number(":math:`-`\\\\ 0.355"), parse_number("—")
    (358000.0, -0.355, None)
    """
    t = text.replace(":math:", "").replace("`", "").replace("\\ ", "").replace("\\", "").strip()
    t = re.sub(r"\s*times\s*10\^\{?(-?\d+)\}?", r"e\1", t)
    t = t.replace("−", "-").replace(" ", "")
    try:
        return float(t)
    except ValueError:
        return None


def _is_rule(line: str, char: str) -> bool:
    stripped = line.rstrip()
    return len(stripped) >= 3 and set(stripped) == {char}


def parse_manual(path: Path) -> list[IbsiFeature]:
    """Every feature heading (``^^^`` underline) of ``03_Image_features.rst`` with its family,
    code and reference-value rows, in document order.

    >>> import pathlib, tempfile
    >>> manual = pathlib.Path(tempfile.mkdtemp()) / "03_Image_features.rst"
    >>> _ = manual.write_text('''Morphological features
    ... ----------------------
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">HCUG</p>
    ...
    ... Volume (mesh)
    ... ^^^^^^^^^^^^^
    ... .. raw:: html
    ...
    ...   <p style="color:grey;font-style:italic;text-align:right">RNU0</p>
    ...
    ... .. table:: Reference values for the *volume (mesh)* feature.
    ...
    ...    +--------------+-------+------+-------------+
    ...    | data         | value | tol. | consensus   |
    ...    +==============+=======+======+=============+
    ...    | dig. phantom | 556   | 4    | very strong |
    ...    +--------------+-------+------+-------------+
    ... ''')
    >>> (feature,) = parse_manual(manual)
    >>> feature.code
    'RNU0'
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    features: list[IbsiFeature] = []
    family = ""
    current: IbsiFeature | None = None
    header: list[str] | None = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _is_rule(nxt, "-") and not line.startswith((" ", "|", "+")):
            # A family heading carries its own code; sub-sections ("Aggregating features") do not.
            if any(_CODE.search(follow) for follow in lines[i + 2 : i + 8]):
                family = clean_heading(line)
            current = None
            continue
        if line.strip() and _is_rule(nxt, "^"):
            current = IbsiFeature(clean_heading(line), family, None, i + 1)
            for follow in lines[i + 2 : i + 8]:
                match = _CODE.search(follow)
                if match:
                    current.code = match.group(1)
                    break
                if _is_rule(follow, "^") or _is_rule(follow, "-"):
                    break
            features.append(current)
            header = None
            continue
        stripped = line.strip()
        if current is None or not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        names = [c.strip("*").strip().lower() for c in cells]
        if "data" in names and "value" in names:
            header = names
            continue
        if header is None or len(cells) != len(header):
            continue
        row = dict(zip(header, cells, strict=True))
        current.references.append(
            ReferenceValue(
                data=row.get("data", ""),
                aggregation=row.get("aggr. method"),
                value=row.get("value", ""),
                tolerance=row.get("tol.", ""),
                consensus=row.get("consensus", ""),
            )
        )
    return features


def within_tolerance(value: float | None, reference: ReferenceValue) -> bool | None:
    """Whether ``value`` matches the reference (see the module docstring); ``None`` if either is missing.

    >>> ref = ReferenceValue("dig. phantom", None, "0.0411", "0.0003", "strong")
    >>> within_tolerance(0.0413, ref), within_tolerance(0.0415, ref)
    (True, False)
    >>> within_tolerance(2.1493, ReferenceValue("dig. phantom", None, "2.15", "—", "very strong"))
    True
    """
    expected = reference.number
    if value is None or expected is None or not math.isfinite(value):
        return None
    tol = reference.tol
    if tol is not None:
        return abs(value - expected) <= tol + 1e-12 * max(abs(expected), 1.0)
    return float(f"{value:.3g}") == expected


def default_paths() -> tuple[Path, Path]:
    """The manual and the digital phantom folder under ``$IGKG_SHARED_DATA/ibsi`` (default ``../shared/data``).

    >>> [path.name for path in default_paths()]
    ['03_Image_features.rst', 'digital_phantom']
    """
    root = Path(Settings.from_env().shared_data)
    return root / "ibsi" / "03_Image_features.rst", root / "ibsi" / "digital_phantom"


def _phantom_files(folder: Path) -> tuple[Path, Path]:
    images = sorted((folder / "image").glob("*.nii*"))
    masks = sorted((folder / "mask").glob("*.nii*"))
    if len(images) != 1 or len(masks) != 1:
        raise ConfigError(f"{folder} must hold image/<one NIfTI> and mask/<one NIfTI> (the IBSI digital phantom)")
    return images[0], masks[0]


def conformance_report(manual: Path, phantom: Path) -> pd.DataFrame:
    """Extract the digital phantom with igkg and compare with the manual; one row per IBSI feature.

    Columns: ``ibsi_code``, ``ibsi_family``, ``ibsi_feature``, ``aggregation``,
    ``pyradiomics_feature``, ``reference``, ``tolerance``, ``igkg_value``,
    ``within_tolerance`` (True / False / empty when not computed), ``reason``.

    :raises ConfigError: ``phantom`` does not hold ``image/<one NIfTI>`` and ``mask/<one NIfTI>``.
    :raises IgkgError: pyradiomics could not extract the phantom.

    >>> import tempfile
    >>> conformance_report(Path("ibsi_manual.tex"), Path(tempfile.mkdtemp()))
    Traceback (most recent call last):
    ...
    kg.core.errors.ConfigError: ... must hold image/<one NIfTI> and mask/<one NIfTI> (the IBSI digital phantom)
    """
    from loaders import ibsi_table
    from loaders.pyradiomics import Case, extract_case, load_settings

    image, mask = _phantom_files(phantom)
    settings = load_settings(params=PHANTOM_SETTINGS)
    result = extract_case(Case(line=0, subject="ibsi-digital-phantom", image=image, mask=mask), settings.params)
    if not result.ok:
        raise IgkgError(f"extraction of the digital phantom failed: {result.error}")
    by_code: dict[str, list[Any]] = {}
    for row in ibsi_table().values():
        if row.ibsi_code and row.status != "deprecated":
            by_code.setdefault(row.ibsi_code, []).append(row)
    records = []
    for feature in parse_manual(manual):
        reference = feature.phantom_reference()
        if reference is None:
            continue
        rows = by_code.get(feature.code or "", [])
        if feature.code is None:
            rows = [
                r for r in ibsi_table().values()
                if r.ibsi_feature == feature.heading and r.ibsi_family == feature.family and r.status != "deprecated"
            ]
        row = rows[0] if rows else None
        name = f"original_{row.feature_class}_{row.feature}" if row is not None else None
        value = result.features.get(name) if name else None
        ok = within_tolerance(value, reference)
        if row is None:
            reason = "not computed by pyradiomics"
        elif ok is False:
            reason = row.deviation or _family_reason(feature.family)
        else:
            reason = ""
        records.append(
            {
                "ibsi_code": feature.code or (row.ibsi_code if row is not None else ""),
                "ibsi_family": feature.family,
                "ibsi_feature": feature.heading,
                "aggregation": reference.aggregation or "",
                "pyradiomics_feature": name or "",
                "reference": reference.number,
                "tolerance": reference.tol if reference.tol is not None else "",
                "igkg_value": value,
                "within_tolerance": "" if ok is None else ok,
                "reason": reason,
            }
        )
    return pd.DataFrame.from_records(records)


def _family_reason(family: str) -> str:
    if family in AGGREGATION:
        return (
            "pyradiomics removes grey levels absent from the ROI before computing texture matrices "
            "(the phantom lacks levels 2 and 5), and bins from 0 by floor division (pyradiomics "
            "imageoperations.getBinEdges note)"
        )
    if family == "Intensity histogram features":
        return "pyradiomics bins from 0 by floor division, IBSI from the minimum (imageoperations.getBinEdges note)"
    return "no documented pyradiomics deviation; differs on the phantom"


def write_report(frame: pd.DataFrame, output: Path | None) -> str:
    """Write the report as CSV (``.csv``) or Markdown (``.md`` or no file); returns the text.

    >>> frame = pd.DataFrame({"ibsi_code": ["RNU0"], "ibsi_family": ["morph"], "ibsi_feature": ["Volume (mesh)"],
    ...                       "aggregation": ["3D"], "pyradiomics_feature": ["original_shape_MeshVolume"], "reference": [556],
    ...                       "tolerance": [4], "igkg_value": [556.3], "within_tolerance": [True], "reason": [""]})
    >>> print(write_report(frame, None).splitlines()[2])
    1 of 1 computed features within tolerance; 0 IBSI features are not computed by pyradiomics.
    """
    if output is not None and output.suffix.lower() == ".csv":
        text = frame.to_csv(index=False)
    else:
        text = _markdown(frame)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    return text


def _markdown(frame: pd.DataFrame) -> str:
    computed = frame[frame["within_tolerance"] != ""]
    ok = int((computed["within_tolerance"] == True).sum())  # noqa: E712 - pandas element-wise
    lines = [
        "# IBSI conformance of igkg (pyradiomics) on the IBSI digital phantom",
        "",
        f"{ok} of {len(computed)} computed features within tolerance; "
        f"{len(frame) - len(computed)} IBSI features are not computed by pyradiomics.",
        "",
        "| " + " | ".join(frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    for record in frame.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and math.isnan(v)) or v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in record]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
