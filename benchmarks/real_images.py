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

    python benchmarks/real_images.py            # all 330 FDU photos
    python benchmarks/real_images.py --quick    # every 10th FDU photo
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.imaging.trichoscopy import measure_trichoscopy, segment_hairs

EXTERNAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external"
FDU_PX_PER_MM = 380.0
# The FDU README documents a burned-in caption bar in the top 40 pixel rows of every photo.
FDU_CAPTION_ROWS = 40


def fdu_exclude_mask(shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) bool mask of the documented FDU caption bar (not scalp)."""
    mask = np.zeros(shape[:2], dtype=bool)
    mask[:FDU_CAPTION_ROWS] = True
    return mask


def fdu_boxes(annotation: Path) -> list[tuple[str, float, float, float, float]]:
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


def fdu(step: int) -> None:
    folder = EXTERNAL / "FDU_HairFollicleDataset"
    images = sorted((folder / "Images").glob("*.jpg"))[::step]
    units, hairs, boxes, captions = [], [], [], 0
    for path in images:
        rgb = load_rgb(path)
        result = measure_trichoscopy(
            rgb, px_per_mm=FDU_PX_PER_MM, exclude_mask=fdu_exclude_mask(rgb.shape)
        )
        units.append(result.figures["follicular_units"])
        hairs.append(result.figures["hair_count"])
        boxes.append(len(fdu_boxes(folder / "Annotations" / f"{path.stem}.xml")))
        captions += result.analysed_rows[0] > 0
    found_units, found_hairs = np.asarray(units, float), np.asarray(hairs, float)
    box_count = np.asarray(boxes, float)
    print(f"FDU: {len(images)} photos, {box_count.mean():.1f} boxes a photo, 380 px/mm")
    print(f"  top caption band found automatically in {captions} photos (top 40 rows excluded)")
    report_agreement("follicular units vs boxes", found_units, box_count)
    report_agreement("hairs vs boxes", found_hairs, box_count)


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
    args = parser.parse_args()
    if not EXTERNAL.is_dir():
        sys.exit(f"no external images at {EXTERNAL.resolve()}")
    cv2.setNumThreads(1)
    fdu(10 if args.quick else 1)
    jenny_zhan()
    kylemak()


if __name__ == "__main__":
    main()
