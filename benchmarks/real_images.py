"""The trichoscopy engine on real photos nobody on the project made (evaluation only).

Reads ``../shared/data/external`` (next to the repository) in place:

- FDU_HairFollicleDataset: 330 dermatoscope photos (1280×1024) with Pascal-VOC boxes, one
  per visible hair shaft, each labelled with its unit's type (a two- or three-hair
  "premium" unit carries two or three overlapping boxes), so ``hair_count`` is the figure
  to compare. Compares the engine's hairs (and, for reference, follicular units) with the
  box count per photo (Pearson r, MAE, bias) at 380 px/mm.
- Jenny-Zhan_hair-follicle-detection: 100 grey 128×128 tiles with hand-drawn hair masks
  (dark strokes on white; threshold 127): Dice of the engine's hair mask.
- KyleMak888_hair-counter-web: one close-up (two sizes) with three marked touching-hair
  clusters of 2, 3 and 2 hairs: hairs whose midpoint falls in each box.

With ``--errors``, where the FDU count parts from the boxes: each counted trace is given
to the box, or the unit of overlapping "premium" boxes, whose extent (10 px wider each
way) holds its midpoint, units of more boxes first. A unit with no trace is missed, one
with fewer traces than boxes under-split, one with more over-split; a trace given to no
box is extra, at the edge when an end lies within 30 px (0.08 mm) of the frame or the
caption band, else inside. Then the agreement with each cause put right in every photo's
count, and, as a ceiling for any recalibration of the count, a least-squares combination
of the engine's per-photo figures fitted on four fifths of the photos and tried on the
fifth (five folds).

    python benchmarks/real_images.py            # all 330 FDU photos
    python benchmarks/real_images.py --quick    # every 10th FDU photo
    python benchmarks/real_images.py --errors   # and the FDU error budget
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.imaging.trichoscopy import TrichoscopyResult, measure_trichoscopy, segment_hairs

EXTERNAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external"
FDU_PX_PER_MM = 380.0
# The FDU README documents a burned-in caption bar in the top 40 pixel rows of every photo.
FDU_CAPTION_ROWS = 40
# Error budget (--errors): premium boxes overlapping by more than this share of the
# smaller are one unit's hairs; a trace belongs to a box whose extent, this much wider
# each way, holds its midpoint; a trace with an end this close to the frame is at its edge.
UNIT_OVERLAP = 0.3
BOX_SLACK_PX = 10.0
EDGE_PX = 30.0
Box = tuple[str, float, float, float, float]


def fdu_exclude_mask(shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool mask of the documented FDU caption bar (not scalp)."""
    mask = np.zeros(shape[:2], dtype=bool)
    mask[:FDU_CAPTION_ROWS] = True
    return mask


def fdu_boxes(annotation: Path) -> list[Box]:
    """(class, x0, y0, x1, y1) per box; corners may be swapped in the files."""
    boxes = []
    for element in ElementTree.parse(annotation).getroot().iter("object"):
        label = element.findtext("class") or element.findtext("name") or ""
        box = element.find("bndbox")
        xs = (float(box.findtext("xmin")), float(box.findtext("xmax")))
        ys = (float(box.findtext("ymin")), float(box.findtext("ymax")))
        boxes.append((label, min(xs), min(ys), max(xs), max(ys)))
    return boxes


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def report_agreement(name: str, found: np.ndarray, boxes: np.ndarray) -> None:
    r = float(np.corrcoef(found, boxes)[0, 1])
    mae = float(np.mean(np.abs(found - boxes)))
    bias = float(np.mean(found - boxes))
    print(f"  {name:28s} Pearson r {r:5.3f}  MAE {mae:5.2f}  bias {bias:+5.2f} per photo")


def fdu(step: int, *, errors: bool) -> None:
    folder = EXTERNAL / "FDU_HairFollicleDataset"
    images = sorted((folder / "Images").glob("*.jpg"))[::step]
    results, boxes, frames = [], [], []
    for path in images:
        rgb = load_rgb(path)
        results.append(
            measure_trichoscopy(
                rgb, px_per_mm=FDU_PX_PER_MM, exclude_mask=fdu_exclude_mask(rgb.shape)
            )
        )
        boxes.append(fdu_boxes(folder / "Annotations" / f"{path.stem}.xml"))
        frames.append(rgb.shape[:2])
    found_units = np.array([result.figures["follicular_units"] for result in results], float)
    found_hairs = np.array([result.figures["hair_count"] for result in results], float)
    box_count = np.array([len(photo_boxes) for photo_boxes in boxes], float)
    captions = sum(result.analysed_rows[0] > 0 for result in results)
    print(f"FDU: {len(images)} photos, {box_count.mean():.1f} boxes a photo, 380 px/mm")
    print(f"  top caption band found automatically in {captions} photos (top 40 rows excluded)")
    report_agreement("follicular units vs boxes", found_units, box_count)
    report_agreement("hairs vs boxes", found_hairs, box_count)
    if errors:
        budgets = [
            error_budget(result, photo_boxes, frame_size=frame)
            for result, photo_boxes, frame in zip(results, boxes, frames, strict=True)
        ]
        budget_report(budgets, found_hairs, box_count)
        ceiling_report(results, box_count)


def box_units(boxes: list[Box]) -> list[list[Box]]:
    """The photo's boxes grouped by follicular unit: premium boxes overlapping by more
    than ``UNIT_OVERLAP`` of the smaller are one unit; any other box is its own."""
    parent = list(range(len(boxes)))

    def find(index: int) -> int:
        while parent[index] != index:
            index = parent[index]
        return index

    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            if a[0] == b[0] == "premium" and _overlap_share(a, b) > UNIT_OVERLAP:
                parent[find(i)] = find(j)
    units: dict[int, list[Box]] = {}
    for index, box in enumerate(boxes):
        units.setdefault(find(index), []).append(box)
    return sorted(units.values(), key=len, reverse=True)


def _overlap_share(a: Box, b: Box) -> float:
    across = min(a[3], b[3]) - max(a[1], b[1])
    down = min(a[4], b[4]) - max(a[2], b[2])
    if across <= 0 or down <= 0:
        return 0.0
    smaller = min((a[3] - a[1]) * (a[4] - a[2]), (b[3] - b[1]) * (b[4] - b[2]))
    return across * down / max(smaller, 1e-9)


def error_budget(
    result: TrichoscopyResult, boxes: list[Box], *, frame_size: tuple[int, int]
) -> Counter:
    """Per cause, the hairs the count lacks (missed, under-split) or has too many of
    (over-split, extra) against one photo's ``boxes``; ``frame_size`` is (height, width)."""
    traces = [hair for hair in result.hairs if hair.counted]
    midpoints = np.array(
        [np.add(hair.start_px, hair.end_px) / 2 for hair in traces], float
    ).reshape(-1, 2)
    unclaimed = np.ones(len(traces), bool)
    budget: Counter = Counter()
    for unit in box_units(boxes):
        x0 = min(box[1] for box in unit) - BOX_SLACK_PX
        y0 = min(box[2] for box in unit) - BOX_SLACK_PX
        x1 = max(box[3] for box in unit) + BOX_SLACK_PX
        y1 = max(box[4] for box in unit) + BOX_SLACK_PX
        inside = (
            unclaimed
            & (midpoints[:, 0] >= x0)
            & (midpoints[:, 0] <= x1)
            & (midpoints[:, 1] >= y0)
            & (midpoints[:, 1] <= y1)
        )
        unclaimed &= ~inside
        lacking = len(unit) - int(inside.sum())
        if lacking > 0:
            kind = "missed" if not inside.any() else "under-split"
            budget[f"{kind} {unit[0][0]}"] += lacking
        elif lacking < 0:
            budget["over-split"] -= lacking
    height, width = frame_size
    top = max(result.analysed_rows[0], FDU_CAPTION_ROWS) + EDGE_PX
    bottom = min(result.analysed_rows[1], height) - EDGE_PX
    for index in np.flatnonzero(unclaimed):
        ends = np.array([traces[index].start_px, traces[index].end_px])
        at_edge = (
            ends[:, 0].min() < EDGE_PX
            or ends[:, 0].max() > width - EDGE_PX
            or ends[:, 1].min() < top
            or ends[:, 1].max() > bottom
        )
        budget["extra at the edge" if at_edge else "extra inside"] += 1
    return budget


def budget_report(budgets: list[Counter], found: np.ndarray, boxes: np.ndarray) -> None:
    causes = sorted({cause for budget in budgets for cause in budget})
    lacking = [cause for cause in causes if cause.startswith(("missed", "under-split"))]
    excess = [cause for cause in causes if cause not in lacking]

    def put_right(chosen: list[str]) -> np.ndarray:
        change = np.array(
            [sum(budget[c] if c in lacking else -budget[c] for c in chosen) for budget in budgets],
            float,
        )
        return found + change

    print("  error budget: hairs per cause, and hairs vs boxes with it put right")
    for cause in causes:
        total = sum(budget[cause] for budget in budgets)
        report_agreement(f"{cause} ({total})", put_right([cause]), boxes)
    report_agreement("all missed and under-split", put_right(lacking), boxes)
    report_agreement("all over-split and extra", put_right(excess), boxes)


def ceiling_report(results: list[TrichoscopyResult], boxes: np.ndarray, folds: int = 5) -> None:
    figures = np.array(
        [
            [
                result.figures["hair_count"],
                sum(hair.counted for hair in result.hairs),
                len(result.hairs),
                result.figures["follicular_units"],
                sum(hair.length_px for hair in result.hairs if hair.counted),
                sum(hair.length_px * hair.width_px for hair in result.hairs if hair.counted),
                result.untraced_share,
                result.analysed_rows[1] - result.analysed_rows[0],
                1.0,
            ]
            for result in results
        ],
        float,
    )
    fold = np.arange(len(results)) % folds
    predicted = np.zeros(len(results))
    for held_out in range(folds):
        fitted = fold != held_out
        weights, *_ = np.linalg.lstsq(figures[fitted], boxes[fitted], rcond=None)
        predicted[~fitted] = figures[~fitted] @ weights
    report_agreement("figures refitted, held out", predicted, boxes)


def jenny_zhan() -> None:
    folder = EXTERNAL / "Jenny-Zhan_hair-follicle-detection"
    dice = []
    for tile in sorted(folder.glob("*image/*.jpg")):
        target_path = folder / f"{tile.parent.name}_target" / f"{tile.stem}_t.jpg"
        grey = np.asarray(Image.open(tile).convert("L"))
        target = np.asarray(Image.open(target_path).convert("L")) < 127
        found = segment_hairs(np.repeat(grey[..., None], 3, axis=2), px_per_mm=None)
        overlap = np.logical_and(found, target).sum()
        total = found.sum() + target.sum()
        dice.append(2 * overlap / total if total else 1.0)
    print(f"Jenny-Zhan: {len(dice)} tiles, hair mask Dice mean {np.mean(dice):.3f}", end="")
    print(f", median {np.median(dice):.3f}")


def kylemak() -> None:
    folder = EXTERNAL / "KyleMak888_hair-counter-web"
    clusters = json.loads((folder / "cluster_counts.json").read_text())
    for name in ("touching-hairs-source.jpg", "touching-hairs.png"):
        rgb = load_rgb(folder / name)
        if name.endswith(".png"):
            # The boxes are burned into this copy in red; keep them out of the hair mask.
            red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
            exclude = cv2.dilate(red.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        else:
            exclude = None
        result = measure_trichoscopy(rgb, px_per_mm=None, exclude_mask=exclude)
        midpoints = [
            ((hair.start_px[0] + hair.end_px[0]) / 2, (hair.start_px[1] + hair.end_px[1]) / 2)
            for hair in result.hairs
            if hair.counted
        ]
        found = []
        for cluster in clusters[name]:
            x, y, width, height = cluster["box"]
            found.append(
                sum(x <= mx <= x + width and y <= my <= y + height for mx, my in midpoints)
            )
        expected = [cluster["hairs"] for cluster in clusters[name]]
        print(f"KyleMak888 {name}: traced hairs per cluster {found} (marked {expected})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every 10th FDU photo")
    parser.add_argument("--errors", action="store_true", help="where the FDU count errs")
    args = parser.parse_args()
    if not EXTERNAL.is_dir():
        sys.exit(f"no external images at {EXTERNAL.resolve()}")
    cv2.setNumThreads(1)
    fdu(10 if args.quick else 1, errors=args.errors)
    jenny_zhan()
    kylemak()


if __name__ == "__main__":
    main()
