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
from pathlib import Path

from tqdm import tqdm

from tracker.batch import BatchOptions, FileOutcome, measure_files
from tracker.imaging.coverage import Roi, parse_roi
from tracker.measurement import FIGURES_BY_VIEW, VIEWS, View

EXIT_NOT_MEASURED = 2


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
    add_workers_option(parser)
    parser.set_defaults(handler=run)


def add_workers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        metavar="N",
        help="photos measured in parallel (default: all cores)",
    )


def run(args: argparse.Namespace) -> int:
    options = BatchOptions(
        view=args.view,
        px_per_mm=args.px_per_mm,
        aruco_mm=args.aruco_mm,
        roi=args.roi,
        overlay_dir=args.overlay_dir,
    )
    if options.overlay_dir is not None:
        options.overlay_dir.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(args.images), desc="Measuring", unit="photo", file=sys.stderr) as bar:
        outcomes = measure_files(
            args.images,
            _overlay_names(args.images),
            options,
            workers=args.workers,
            on_done=bar.update,
        )
    if args.json:
        json.dump([outcome.json for outcome in outcomes], sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(outcomes, view=options.view))
    return EXIT_NOT_MEASURED if any("error" in outcome.json for outcome in outcomes) else 0


def _overlay_names(images: list[Path]) -> list[str]:
    """``<stem>.overlay.png`` per image; a repeated stem gets ``-2``, ``-3``… appended."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for image in images:
        seen[image.stem] = seen.get(image.stem, 0) + 1
        suffix = "" if seen[image.stem] == 1 else f"-{seen[image.stem]}"
        names.append(f"{image.stem}{suffix}.overlay.png")
    return names


def _table(outcomes: list[FileOutcome], *, view: View) -> str:
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
