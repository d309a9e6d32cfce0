"""``python -m tracker analyze``: measure photo files, as a table or as JSON.

Other tools read the ``--json`` output, so its shape is a contract: one array, one object
per image in input order, each ``{"image", **Measurement.to_json()}`` or, for a file that
cannot be measured, ``{"image", "error"}`` (the exit status is then 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import cv2
from PIL import Image
from tqdm import tqdm

from tracker.analysis import analyze_file
from tracker.imaging.coverage import Roi, parse_roi
from tracker.imaging.intake import IntakeError
from tracker.measurement import FIGURES_BY_VIEW, VIEWS, Measurement, View

EXIT_NOT_MEASURED = 2


@dataclass(frozen=True)
class _Options:
    view: View
    px_per_mm: float | None
    aruco_mm: float | None
    roi: Roi | None
    overlay_dir: Path | None


@dataclass(frozen=True)
class _Outcome:
    """What one image gave: the JSON object, and the notes for the table."""

    json: dict[str, object]
    notes: tuple[str, ...] = ()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="measure photo files (hair density or coverage) and check their quality",
        description=(
            "Measure trichoscopy close-ups (hair count, density, widths, follicular units) "
            "or global photos (coverage), with a quality check of each photo."
        ),
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="photo files")
    parser.add_argument("--view", required=True, choices=VIEWS, help="kind of photo")
    parser.add_argument(
        "--px-per-mm", type=_positive_float, metavar="P", help="pixel size of the device"
    )
    parser.add_argument(
        "--aruco-mm",
        type=_positive_float,
        metavar="S",
        help="side in mm of an ArUco marker (4x4) in the frame, for calibration",
    )
    parser.add_argument(
        "--roi",
        type=_roi,
        metavar="x,y,w,h",
        help="measure only this rectangle (pixels; or cx,cy,r for a circle)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.add_argument(
        "--overlay-dir", type=Path, metavar="DIR", help="write each overlay PNG here"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        metavar="N",
        help="photos measured in parallel (default: all cores)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = _Options(
        view=args.view,
        px_per_mm=args.px_per_mm,
        aruco_mm=args.aruco_mm,
        roi=args.roi,
        overlay_dir=args.overlay_dir,
    )
    if options.overlay_dir is not None:
        options.overlay_dir.mkdir(parents=True, exist_ok=True)
    overlay_names = _overlay_names(args.images)
    outcomes = _measure_all(args.images, overlay_names, options, workers=max(1, args.workers))
    if args.json:
        json.dump([outcome.json for outcome in outcomes], sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(outcomes, view=options.view))
    return EXIT_NOT_MEASURED if any("error" in outcome.json for outcome in outcomes) else 0


def _measure_all(
    images: list[Path], overlay_names: list[str], options: _Options, *, workers: int
) -> list[_Outcome]:
    """Measure every image, ``workers`` at a time, keeping the input order."""
    jobs = list(zip(images, overlay_names, strict=True))
    with tqdm(total=len(jobs), desc="Measuring", unit="photo", file=sys.stderr) as progress:
        if workers == 1 or len(jobs) == 1:
            if workers == 1:
                _one_thread_each()
            outcomes = []
            for image, name in jobs:
                outcomes.append(_measure_one(image, name, options))
                progress.update()
            return outcomes
        # spawn, not fork: forking a process whose OpenCV threads are running can hang.
        with ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=get_context("spawn"),
            initializer=_one_thread_each,
        ) as pool:
            futures = [pool.submit(_measure_one, image, name, options) for image, name in jobs]
            for _done in as_completed(futures):
                progress.update()
            return [future.result() for future in futures]


def _one_thread_each() -> None:
    # Each process measures one photo on one core; OpenCV's own threads would only
    # compete with the other workers.
    cv2.setNumThreads(1)


def _measure_one(image: Path, overlay_name: str, options: _Options) -> _Outcome:
    try:
        measurement = analyze_file(
            image,
            view=options.view,
            px_per_mm=options.px_per_mm,
            aruco_mm=options.aruco_mm,
            roi=options.roi,
        )
    except IntakeError as error:
        return _Outcome({"image": str(image), "error": error.message})
    except OSError as error:
        return _Outcome({"image": str(image), "error": f"cannot read the file: {error.strerror}"})
    except ValueError as error:  # options that do not fit this photo, e.g. a ROI outside it
        return _Outcome({"image": str(image), "error": str(error)})
    if options.overlay_dir is not None:
        Image.fromarray(measurement.overlay_rgb).save(options.overlay_dir / overlay_name)
    return _Outcome({"image": str(image), **_finite(measurement)}, measurement.notes)


def _finite(measurement: Measurement) -> dict[str, object]:
    """``measurement.to_json()`` with any NaN figure as null (JSON has no NaN)."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in measurement.to_json().items()
    }


def _overlay_names(images: list[Path]) -> list[str]:
    """``<stem>.overlay.png`` per image; a repeated stem gets ``-2``, ``-3``… appended."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for image in images:
        seen[image.stem] = seen.get(image.stem, 0) + 1
        suffix = "" if seen[image.stem] == 1 else f"-{seen[image.stem]}"
        names.append(f"{image.stem}{suffix}.overlay.png")
    return names


def _table(outcomes: list[_Outcome], *, view: View) -> str:
    figures = FIGURES_BY_VIEW[view]
    header = ["image", "px/mm", "quality", *figures]
    rows = [header]
    problems: list[str] = []
    for outcome in outcomes:
        result = outcome.json
        if "error" in result:
            rows.append([str(result["image"]), "-", "ERROR", *["-"] * len(figures)])
            problems.append(f"{result['image']}: {result['error']}")
            continue
        quality = result["quality"]
        assert isinstance(quality, dict)
        issues = quality["issues"]
        assert isinstance(issues, list)
        codes = ",".join(issue["code"] for issue in issues) or "ok"
        rows.append(
            [
                str(result["image"]),
                _cell(result["px_per_mm"]),
                codes,
                *(_cell(result[name]) for name in figures),
            ]
        )
        problems.extend(f"{result['image']}: {issue['message']}" for issue in issues)
        problems.extend(f"{result['image']}: {note}" for note in outcome.notes)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join([*(line.rstrip() for line in lines), *problems]) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _roi(text: str) -> Roi:
    try:
        return parse_roi(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
