"""How often the quality gate flags a photo as underexposed, on photos whose exposure is known.

- Global phantoms (``global_benchmark_set``) as rendered, which are properly lit, and the
  same scenes rendered 2 and 3 stops darker (the renderer's exposure, its own sensor
  noise); each also with a black cloth on both sides of the head, a fifth of the frame.
- Trichoscopy phantoms (``trichoscopy_benchmark_set``) as rendered and 2 and 3 stops darker.
- The real photos in ``../shared/data/external`` (read in place): every issue code the gate
  raises, photos counted once per code. None of them is known to be badly exposed.

A properly lit photo flagged is a false alarm; a darker one not flagged is a miss. Some
misses cannot be told from exposure alone: a properly lit type-VI scalp is as dark as a
type-I scalp two to three stops under.

    python benchmarks/quality_gate.py              # 100 global (seed 0), 100 close-ups
    python benchmarks/quality_gate.py --seed 1     # another global set
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.imaging.quality import assess_quality
from tracker.phantoms import (
    global_benchmark_set,
    render_global,
    render_trichoscopy,
    trichoscopy_benchmark_set,
)

EXTERNAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "external"
STOPS_UNDER = (0, 2, 3)
FDU_PX_PER_MM = 380.0


def underexposed(rgb: np.ndarray, *, view: str, px_per_mm: float | None = None) -> bool:
    issues = assess_quality(rgb, view=view, px_per_mm=px_per_mm).issues  # type: ignore[arg-type]
    return any(issue.code == "underexposed" for issue in issues)


def before_black_cloth(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` with black cloth (level about 8, sensor noise) over a tenth on each side."""
    framed = rgb.copy()
    side = rgb.shape[1] // 10
    for columns in (slice(0, side), slice(rgb.shape[1] - side, None)):
        cloth = rng.normal(8.0, 2.0, framed[:, columns].shape)
        framed[:, columns] = cloth.clip(0, 255).astype(np.uint8)
    return framed


def global_photos(seed: int) -> None:
    rng = np.random.default_rng(seed)
    flagged: Counter[tuple[int, bool]] = Counter()
    count = 0
    for case in global_benchmark_set(seed=seed):
        count += 1
        for stops in STOPS_UNDER:
            conditions = replace(case.conditions, exposure=case.conditions.exposure * 2.0**-stops)
            rgb = case.rgb if stops == 0 else render_global(case.scene, conditions=conditions)[0]
            flagged[stops, False] += underexposed(rgb, view="global")
            flagged[stops, True] += underexposed(before_black_cloth(rgb, rng), view="global")
    print(f"global phantoms (seed {seed}), flagged underexposed of {count}:")
    print(f"  {'stops under':<12} {'as rendered':>12} {'black cloth':>12}")
    for stops in STOPS_UNDER:
        print(f"  {stops:<12} {flagged[stops, False]:>12} {flagged[stops, True]:>12}")


def close_ups(count: int) -> None:
    flagged: Counter[int] = Counter()
    for case in trichoscopy_benchmark_set(count=count):
        for stops in STOPS_UNDER:
            conditions = replace(case.conditions, exposure=case.conditions.exposure * 2.0**-stops)
            rgb, _truth = render_trichoscopy(
                case.scene, px_per_mm=case.px_per_mm, size_px=case.size_px, conditions=conditions
            )
            flagged[stops] += underexposed(rgb, view="trichoscopy", px_per_mm=case.px_per_mm)
    print(f"trichoscopy phantoms, flagged underexposed of {count}:")
    for stops in STOPS_UNDER:
        print(f"  {stops} stops under: {flagged[stops]}")


def real_photos() -> None:
    sets = {
        "FDU": ("FDU_HairFollicleDataset/Images/*.jpg", FDU_PX_PER_MM),
        "Jenny-Zhan": ("Jenny-Zhan_hair-follicle-detection/*image/*.jpg", None),
        "KyleMak888": ("KyleMak888_hair-counter-web/touching-hairs*", None),
    }
    print("real photos (close-ups), photos with each issue:")
    for name, (pattern, px_per_mm) in sets.items():
        paths = sorted(EXTERNAL.glob(pattern))
        if not paths:
            print(f"  {name}: not found under {EXTERNAL}")
            continue
        codes: Counter[str] = Counter()
        for path in paths:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            issues = assess_quality(rgb, view="trichoscopy", px_per_mm=px_per_mm).issues
            codes.update({issue.code for issue in issues})
        listed = ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none"
        print(f"  {name} ({len(paths)} photos): {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the global phantom set")
    parser.add_argument("--close-ups", type=int, default=100, help="trichoscopy phantoms")
    args = parser.parse_args()
    global_photos(args.seed)
    close_ups(args.close_ups)
    real_photos()


if __name__ == "__main__":
    main()
