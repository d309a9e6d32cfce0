"""The result of measuring one photo, shared by the engine, the records and the reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from tracker.imaging.trichoscopy import TrichoscopyResult

View = Literal["trichoscopy", "global"]
VIEWS: tuple[View, ...] = ("trichoscopy", "global")

TRICHOSCOPY_FIGURES: tuple[str, ...] = (
    "area_cm2",
    "hair_count",
    "density_per_cm2",
    "terminal_count",
    "vellus_count",
    "vellus_fraction",
    "mean_width_um",
    "follicular_units",
    "hairs_per_unit",
)
GLOBAL_FIGURES: tuple[str, ...] = ("coverage_pct",)
FIGURES_BY_VIEW: dict[View, tuple[str, ...]] = {
    "trichoscopy": TRICHOSCOPY_FIGURES,
    "global": GLOBAL_FIGURES,
}

Figure = float | int | None


@dataclass(frozen=True)
class QualityIssue:
    """One named quality problem, with a message for people and the measured value."""

    code: str
    message: str
    value: float | None = None

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "value": self.value}


@dataclass(frozen=True)
class Quality:
    issues: tuple[QualityIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.issues

    def to_json(self) -> dict[str, object]:
        return {"ok": self.ok, "issues": [issue.to_json() for issue in self.issues]}


@dataclass(frozen=True)
class Measurement:
    """Figures measured on one photo.

    ``figures`` holds exactly the names of ``FIGURES_BY_VIEW[view]``; per-cm² and µm
    figures are ``None`` when the pixel size is unknown. ``overlay_rgb`` is an (h, w, 3)
    uint8 picture of what was detected, the photo or a smaller copy (None when it was not
    asked for). ``widths_um`` lists every counted trace's shaft width (empty without
    calibration or for global photos). ``notes`` tell people what limits the figures
    without being a fault of the photo (no calibration, marker not found).
    ``trichoscopy`` keeps a close-up's traced hairs and units (None for global photos), so
    registration to the baseline can count them again on the reference region without
    running the engine twice.
    """

    view: View
    px_per_mm: float | None
    px_per_mm_source: str | None
    algorithm_version: str
    quality: Quality
    figures: dict[str, Figure]
    overlay_rgb: np.ndarray | None = field(repr=False, compare=False)
    widths_um: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()
    trichoscopy: TrichoscopyResult | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, object]:
        """The object printed by ``python -m tracker analyze --json`` (minus ``image``)."""
        return {
            "view": self.view,
            "px_per_mm": self.px_per_mm,
            "algorithm_version": self.algorithm_version,
            "quality": self.quality.to_json(),
            **{name: self.figures.get(name) for name in FIGURES_BY_VIEW[self.view]},
        }
