"""Measure many photo files in parallel worker processes, keeping their order.

``python -m tracker analyze`` uses this. A worker imports only this module and the imaging
stack, not the command line or the records layer (SQLAlchemy, reports), which more than
halves the cost of starting one. A worker sends back the small JSON result of each photo,
never its pixels: the overlay is written to disk by the worker itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tracker.analysis import analyze_file
from tracker.imaging.coverage import Roi
from tracker.imaging.intake import IntakeError
from tracker.measurement import Measurement, View

# zlib level 1: a 12-MP overlay is written in about a quarter of the CPU time of Pillow's
# default level 6 (which took longer than measuring the photo), for a file about a fifth
# larger; PNG stays lossless either way.
OVERLAY_PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class BatchOptions:
    """How every photo of one batch is measured; ``overlay_dir`` gets the overlay PNGs."""

    view: View
    px_per_mm: float | None = None
    aruco_mm: float | None = None
    roi: Roi | None = None
    overlay_dir: Path | None = None


@dataclass(frozen=True)
class FileOutcome:
    """What one file gave: ``{"image", **Measurement.to_json()}`` (NaN as null) or
    ``{"image", "error"}`` for a file that cannot be measured, and the calibration notes."""

    json: dict[str, object]
    notes: tuple[str, ...] = ()


def measure_files(
    images: Sequence[Path],
    overlay_names: Sequence[str],
    options: BatchOptions,
    *,
    workers: int,
    on_done: Callable[[], object] = lambda: None,
) -> list[FileOutcome]:
    """Measure every image, ``workers`` processes at a time, in input order.

    ``overlay_names[i]`` is the file name of image i's overlay in ``options.overlay_dir``;
    ``on_done`` is called once per finished photo (for a progress bar). With one worker,
    or one photo, the photos are measured in this process.
    """
    jobs = list(zip(images, overlay_names, strict=True))
    if workers <= 1 or len(jobs) <= 1:
        if workers <= 1:
            use_one_thread()
        outcomes = []
        for image, name in jobs:
            outcomes.append(measure_file(image, name, options))
            on_done()
        return outcomes
    # spawn, not fork: forking a process whose OpenCV or progress-bar threads are running
    # can hang.
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        mp_context=get_context("spawn"),
        initializer=use_one_thread,
    ) as pool:
        futures = [pool.submit(measure_file, image, name, options) for image, name in jobs]
        for _done in as_completed(futures):
            on_done()
        return [future.result() for future in futures]


def use_one_thread() -> None:
    """Keep OpenCV to this process's one core: with one photo per worker on each core,
    OpenCV's own threads would only compete with the other workers."""
    cv2.setNumThreads(1)


def measure_file(image: Path, overlay_name: str, options: BatchOptions) -> FileOutcome:
    """Measure one file; a file that cannot be measured gives an ``error`` outcome."""
    try:
        measurement = analyze_file(
            image,
            view=options.view,
            px_per_mm=options.px_per_mm,
            aruco_mm=options.aruco_mm,
            roi=options.roi,
            overlay=options.overlay_dir is not None,
        )
    except IntakeError as error:
        return FileOutcome({"image": str(image), "error": error.message})
    except OSError as error:
        return FileOutcome(
            {"image": str(image), "error": f"cannot read the file: {error.strerror}"}
        )
    except ValueError as error:  # options that do not fit this photo, e.g. a ROI outside it
        return FileOutcome({"image": str(image), "error": str(error)})
    if measurement.overlay_rgb is not None and options.overlay_dir is not None:
        write_overlay(options.overlay_dir / overlay_name, measurement.overlay_rgb)
    return FileOutcome({"image": str(image), **_finite(measurement)}, measurement.notes)


def write_overlay(path: Path, overlay_rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 overlay to ``path`` as PNG."""
    Image.fromarray(overlay_rgb).save(path, format="PNG", compress_level=OVERLAY_PNG_COMPRESS_LEVEL)


def _finite(measurement: Measurement) -> dict[str, object]:
    """``measurement.to_json()`` with any NaN figure as null (JSON has no NaN)."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in measurement.to_json().items()
    }
