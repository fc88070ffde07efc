"""The Sentinel-2 band table of CDSE (collections ``sentinel-2-l2a`` and ``sentinel-2-l1c``).

Pure data and validation: which bands a collection has, their native resolution and the
units an evalscript reads them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from s2raster.errors import BandError, InputError

COLLECTIONS = ("sentinel-2-l2a", "sentinel-2-l1c")


@dataclass(frozen=True)
class Band:
    """One band of a collection.

    ``resolution`` is the native ground sampling distance in metres (0 for bands without
    one, such as ``dataMask``); ``units`` is what the evalscript asks for; ``dtype_hint``
    says whether values are continuous (``"float"``) or classes/counts (``"int"``).
    Reflective bands have a centre ``wavelength_nm`` and a ``bandwidth_nm`` (full width at
    half maximum) and the STAC ``common_name`` (``"red"``, ``"nir"``, ...).
    """

    name: str
    resolution: int
    units: str
    description: str
    wavelength_nm: float | None = None
    dtype_hint: str = "float"
    bandwidth_nm: float | None = None
    common_name: str | None = None

    @property
    def unit(self) -> str:
        """The unit as files and STAC write it: ``"reflectance"``, ``"degrees"``, ``""``..."""
        return UNIT_NAMES.get(self.units, "")


#: Evalscript units -> the unit written into files (DN: classes or counts, no unit).
UNIT_NAMES = {
    "REFLECTANCE": "reflectance",
    "OPTICAL_DEPTH": "optical_depth",
    "DEGREES": "degrees",
    "PERCENT": "percent",
}

# Centre wavelength and bandwidth (nm) of Sentinel-2A's MSI, from ESA's Sentinel-2 MSI
# spectral band table (SentiWiki, "S2 Mission: MSI instrument"); STAC eo common names.
_REFLECTIVE: tuple[tuple[str, int, float, float, str, str], ...] = (
    ("B01", 60, 442.7, 21, "coastal aerosol", "coastal"),
    ("B02", 10, 492.4, 66, "blue", "blue"),
    ("B03", 10, 559.8, 36, "green", "green"),
    ("B04", 10, 664.6, 31, "red", "red"),
    ("B05", 20, 704.1, 15, "red edge 1", "rededge"),
    ("B06", 20, 740.5, 15, "red edge 2", "rededge"),
    ("B07", 20, 782.8, 20, "red edge 3", "rededge"),
    ("B08", 10, 832.8, 106, "near infrared", "nir"),
    ("B8A", 20, 864.7, 21, "narrow near infrared", "nir08"),
    ("B09", 60, 945.1, 20, "water vapour", "nir09"),
    ("B10", 60, 1373.5, 31, "cirrus (L1C only)", "cirrus"),
    ("B11", 20, 1613.7, 91, "short-wave infrared 1", "swir16"),
    ("B12", 20, 2202.4, 175, "short-wave infrared 2", "swir22"),
)

_ANGLES = (
    Band("sunAzimuthAngles", 5000, "DEGREES", "sun azimuth angle"),
    Band("sunZenithAngles", 5000, "DEGREES", "sun zenith angle"),
    Band("viewAzimuthMean", 5000, "DEGREES", "mean viewing azimuth angle"),
    Band("viewZenithMean", 5000, "DEGREES", "mean viewing zenith angle"),
)

_L2A_EXTRA = (
    Band("SCL", 20, "DN", "scene classification", dtype_hint="int"),
    Band("AOT", 10, "OPTICAL_DEPTH", "aerosol optical thickness"),
    Band("SNW", 20, "PERCENT", "snow probability (%)", dtype_hint="int"),
    Band("CLD", 20, "PERCENT", "cloud probability (%)", dtype_hint="int"),
)

DATA_MASK = Band("dataMask", 0, "DN", "1 where data exists, 0 where not", dtype_hint="int")


def _reflective(*, with_b10: bool) -> tuple[Band, ...]:
    return tuple(
        Band(name, res, "REFLECTANCE", desc, wavelength, "float", width, common)
        for name, res, wavelength, width, desc, common in _REFLECTIVE
        if with_b10 or name != "B10"
    )


BANDS: dict[str, dict[str, Band]] = {
    "sentinel-2-l2a": {
        b.name: b for b in (*_reflective(with_b10=False), *_L2A_EXTRA, *_ANGLES, DATA_MASK)
    },
    "sentinel-2-l1c": {b.name: b for b in (*_reflective(with_b10=True), *_ANGLES, DATA_MASK)},
}

#: SCL classes of Sen2Cor, as CDSE serves them.
SCL_CLASSES: dict[int, str] = {
    0: "no data",
    1: "saturated or defective",
    2: "dark area pixels",
    3: "cloud shadows",
    4: "vegetation",
    5: "bare soils",
    6: "water",
    7: "unclassified",
    8: "cloud medium probability",
    9: "cloud high probability",
    10: "thin cirrus",
    11: "snow or ice",
}


#: How a band is read into a 16-bit integer response (``sample_type="UINT16"``): the units
#: the evalscript asks for, and the divisor that turns them into the band's natural units.
#: Sentinel-2 reflectance is an integer DN / 10000 (harmonised: 0..65535), SCL a class,
#: CLD/SNW whole percent, so these are exact; AOT and the angles are refused (see
#: :func:`integer_units`).
INTEGER_UNITS: dict[str, tuple[str, float]] = {
    "REFLECTANCE": ("DN", 10_000.0),
    "DN": ("DN", 1.0),
    "PERCENT": ("PERCENT", 1.0),
}


def integer_units(collection: str, bands: Iterable[str]) -> tuple[tuple[str, float], ...]:
    """Per band, the (units, divisor) of a lossless UINT16 response; InputError for others.

    Angles (DEGREES) are fractional and AOT (OPTICAL_DEPTH) is not read back bit for bit
    from its DN by every client, so both are refused with the fix (FLOAT32, or a separate
    load for them).
    """
    table = band_table(collection)
    names = list(bands)
    refused = [name for name in names if table[name].units not in INTEGER_UNITS]
    if refused:
        raise BandError(
            f"sample_type='UINT16' carries integer bands only; {', '.join(refused)} "
            f"{'is' if len(refused) == 1 else 'are'} not integer ({table[refused[0]].units}): "
            "use sample_type='FLOAT32' (--sample-type FLOAT32), or load those bands separately"
        )
    return tuple(INTEGER_UNITS[table[name].units] for name in names)


def check_collection(collection: str) -> str:
    """Return ``collection`` if CDSE serves it here, else raise :class:`InputError`."""
    if not isinstance(collection, str) or collection not in BANDS:
        raise InputError(f"unknown collection {collection!r}; use one of: {', '.join(COLLECTIONS)}")
    return collection


def band_table(collection: str) -> dict[str, Band]:
    """The bands of ``collection`` by name (``dataMask`` included)."""
    return BANDS[check_collection(collection)]


def validate_bands(
    bands: str | Iterable[str], collection: str = "sentinel-2-l2a"
) -> tuple[str, ...]:
    """Check band names against ``collection`` and return them as a tuple.

    Accepts a comma-separated string or an iterable. Names are matched case-insensitively
    and returned in the service's spelling; duplicates and ``dataMask`` (always read
    anyway) are refused, as is an empty selection.
    """
    if isinstance(bands, str):
        names: list[object] = [b.strip() for b in bands.split(",")]
    elif isinstance(bands, Iterable) and not isinstance(bands, (bytes, dict)):
        names = list(bands)
    else:
        raise BandError(
            f"bands must be band names, got {type(bands).__name__} {bands!r}: give e.g. "
            "['B04', 'B08'] or 'B04,B08'"
        )
    table = band_table(collection)
    by_lower = {name.lower(): name for name in table if name != DATA_MASK.name}
    out: list[str] = []
    for raw in names:
        name = by_lower.get(raw.strip().lower()) if isinstance(raw, str) else None
        if name is None:
            valid = ", ".join(by_lower.values())
            raise BandError(f"unknown band {raw!r} for {collection}; valid bands: {valid}")
        if name in out:
            raise BandError(f"band {name} is asked for twice; name each band once")
        out.append(name)
    if not out:
        raise BandError("no bands asked for; name at least one, e.g. B04,B08")
    return tuple(out)
