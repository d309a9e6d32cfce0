"""Measure many photo files in parallel worker processes, keeping their order.

``python -m tracker analyze`` uses this. A worker imports only this module and the imaging
stack, not the command line or the records layer (SQLAlchemy, reports), which more than
halves the cost of starting one. A worker sends back the small JSON result of each photo,
never its pixels: the overlay is written to disk by the worker itself.

:func:`map_in_waves` is the pool itself, also used to re-measure stored photos
(:mod:`tracker.services.reanalysis`).
"""

from __future__ import annotations

import math
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

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

Result = TypeVar("Result")


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
    jobs = [(image, name, options) for image, name in zip(images, overlay_names, strict=True)]
    (outcomes,) = map_in_waves(
        measure_file, [jobs], workers=workers, on_done=lambda _outcome: on_done()
    )
    return outcomes


def map_in_waves(
    function: Callable[..., Result],
    waves: Sequence[Sequence[tuple[object, ...]]],
    *,
    workers: int,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[object, ...] = (),
    on_done: Callable[[Result], object] = lambda _result: None,
) -> list[list[Result]]:
    """``function(*job)`` for every job, ``workers`` spawned processes at a time: each
    wave's results in job order, a wave started only once the one before has finished.

    Each worker runs ``initializer(*initargs)`` once, if given, after
    :func:`use_one_thread`; ``on_done`` gets every result as it arrives. With one worker,
    or one job in all, the jobs run in this process, without the initializer. An
    interrupt (or an exception from ``on_done`` or a job) cancels the jobs not yet started
    and lets the running ones finish (workers ignore Ctrl-C, so no job is cut off
    half-way); after an interrupt their results still reach ``on_done``.
    """
    if workers <= 1 or sum(len(wave) for wave in waves) <= 1:
        if workers <= 1:
            use_one_thread()
        results: list[list[Result]] = []
        for wave in waves:
            results.append([])
            for job in wave:
                results[-1].append(function(*job))
                on_done(results[-1][-1])
        return results
    # spawn, not fork: forking a process whose OpenCV or progress-bar threads are running
    # can hang.
    with ProcessPoolExecutor(
        max_workers=min(workers, max(len(wave) for wave in waves)),
        mp_context=get_context("spawn"),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    ) as pool:
        results = []
        for wave in waves:
            futures = [pool.submit(function, *job) for job in wave]
            _report_as_done(pool, futures, on_done)
            results.append([future.result() for future in futures])
        return results


def _report_as_done(
    pool: ProcessPoolExecutor,
    futures: list[Future[Result]],
    on_done: Callable[[Result], object],
) -> None:
    """``on_done`` for each result as it arrives. On an interrupt the jobs not yet started
    are cancelled, and the running ones are waited for and reported before it goes on."""
    unreported = set(futures)
    try:
        for done in as_completed(futures):
            unreported.discard(done)
            on_done(done.result())
    except KeyboardInterrupt:
        pool.shutdown(cancel_futures=True)
        for future in futures:
            if future in unreported and not future.cancelled() and future.exception() is None:
                on_done(future.result())
        raise
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise


def _start_worker(initializer: Callable[..., object] | None, initargs: tuple[object, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_one_thread()
    if initializer is not None:
        initializer(*initargs)


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
