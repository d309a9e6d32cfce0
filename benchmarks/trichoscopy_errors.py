"""Where the trichoscopy engine's hair count and vellus fraction go wrong, hair by hair.

Each counted trace is matched to at most one phantom hair the truth counts, by how far it
runs along the hair (within 20° of its direction and 3 px plus half its width of its line);
a hair is found when its match runs along at least 30 % of it. The rest is sorted by cause:

- a missed hair by the trace that runs furthest along it: one matched to a hair of the same
  follicular unit (the two shafts merged where they fan out of one opening), one matched
  to another unit's hair (crossing or lying alongside), a piece too short to be a match,
  a trace the border rule left uncounted (its expected midpoint outside the frame), or
  none;
- a trace matching no hair by the hair it runs furthest along: one already found by
  another trace (a second piece of a broken shaft), a missed hair, or none the truth
  counts (skin, a bubble's rim, a hair whose midpoint is outside the frame).

Found hairs are also checked for their kind (vellus or terminal). Then the count MAPE and
the vellus fraction error, as traced (each trace one hair), as counted (with the hairs no
trace shows estimated from the photo's untraced hair) and, as traced, with each cause removed:
how far resolving it alone would take each figure towards its target. The count MAPE is
also given with every image's count scaled by one factor that leaves no bias: what is left
is the scatter from photo to photo, which no correction of the whole set's bias removes.
Last, each image's missed and extra hairs (as shares of its hairs) and its count error are
fitted, by least squares, to what made the photo hard (the scene's density, vellus share
and hair length; the magnification, blur, noise, JPEG quality, shadow under the skin and
bubbles): how much each moves per standard deviation of the set, and how much of the
scatter they explain.

    python benchmarks/trichoscopy_errors.py            # the fixed set, 200 images
    python benchmarks/trichoscopy_errors.py --seed 7   # the held-out set
    python benchmarks/trichoscopy_errors.py --quick    # its first 40 images
    python benchmarks/trichoscopy_errors.py --hair-lengths 1 2   # its scenes, long hair
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trichoscopy_accuracy import add_hair_lengths_argument

from tracker.imaging.trichoscopy import MIN_HAIR_LENGTH_MM, measure_trichoscopy
from tracker.phantoms import TRICHOSCOPY_BENCHMARK_SEED, TrichoscopyCase, trichoscopy_benchmark_set

CONDITIONS = (
    "density",
    "vellus",
    "length",
    "px/mm",
    "blur",
    "noise",
    "JPEG q",
    "shadow",
    "bubbles",
)
MAX_ANGLE_DEG = 20.0
BAND_PX = 3.0
FOUND_SHARE = 0.3
SAMPLES = 21
# Truth and engine are both judged here at this threshold (the phantoms' own default).
VELLUS_THRESHOLD_UM = 30.0

MISSED = (
    "merged with a sibling",
    "merged with another unit's hair",
    "under a short piece",
    "traced, not counted at the border",
    "untouched",
)
EXTRA = (
    "second piece of a found hair",
    "on a missed hair",
    "on no counted hair",
)


def runs_along(
    shafts_px: np.ndarray, widths_px: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """(N,) px of the straight trace ``start``-``end`` running along each of N hair shafts
    (``shafts_px`` (N, 4) exit and tip x, y; ``widths_px`` (N,))."""
    exits, tips = shafts_px[:, :2], shafts_px[:, 2:]
    lengths = np.maximum(np.hypot(*(tips - exits).T), 1e-9)
    along_unit = (tips - exits) / lengths[:, None]
    across_unit = np.column_stack((-along_unit[:, 1], along_unit[:, 0]))
    trace = end - start
    trace_length = float(np.hypot(*trace))
    if trace_length < 1:
        return np.zeros(len(shafts_px))
    cosine = np.abs(along_unit @ trace) / trace_length
    points = start + np.linspace(0.0, 1.0, SAMPLES)[:, None] * trace  # (S, 2)
    relative = points[None, :, :] - exits[:, None, :]  # (N, S, 2)
    across = np.abs(np.einsum("nsk,nk->ns", relative, across_unit))
    along = np.einsum("nsk,nk->ns", relative, along_unit)
    band = BAND_PX + widths_px[:, None] / 2
    inside = (across <= band) & (along >= -band) & (along <= lengths[:, None] + band)
    runs = inside.mean(axis=1) * trace_length * cosine
    return np.where(cosine >= np.cos(np.radians(MAX_ANGLE_DEG)), runs, 0.0)


def clear_lengths_px(shafts_px: np.ndarray, widths_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two (N,) px lengths of each of N hair shafts (``shafts_px`` (N, 4) exit and tip x, y;
    ``widths_px`` (N,)), sampled 1 px apart along its centre line: where no other shaft
    covers its centre line, and where its edges touch no other shaft."""
    exits, tips = shafts_px[:, :2], shafts_px[:, 2:]
    spans = tips - exits
    span_sq = np.maximum(np.einsum("nk,nk->n", spans, spans), 1e-9)
    uncovered, untouched = np.zeros(len(shafts_px)), np.zeros(len(shafts_px))
    for hair, (exit_px, span) in enumerate(zip(exits, spans, strict=True)):
        length = float(np.hypot(*span))
        samples = max(2, int(length) + 1)
        points = exit_px + np.linspace(0.0, 1.0, samples)[:, None] * span  # (P, 2)
        relative = points[:, None, :] - exits[None, :, :]  # (P, N, 2)
        along = np.clip(np.einsum("pnk,nk->pn", relative, spans) / span_sq, 0.0, 1.0)
        nearest = exits[None, :, :] + along[..., None] * spans[None, :, :]
        distance = np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1))
        distance[:, hair] = np.inf
        covered = (distance <= widths_px / 2).any(axis=1)
        touched = (distance <= (widths_px[hair] + widths_px) / 2).any(axis=1)
        uncovered[hair] = np.count_nonzero(~covered) * length / samples
        untouched[hair] = np.count_nonzero(~touched) * length / samples
    return uncovered, untouched


def budget(case: TrichoscopyCase) -> dict[str, int]:
    """Counts of each cause (``MISSED``, ``EXTRA``), of true and found hairs and of vellus
    hairs found, missed and read as the wrong kind, for one image."""
    cv2.setNumThreads(1)
    rgb, truth = case.render()
    result = measure_trichoscopy(
        rgb, px_per_mm=case.px_per_mm, vellus_threshold_um=VELLUS_THRESHOLD_UM
    )
    shafts_px = np.asarray(truth.shafts_px, dtype=float).reshape(-1, 4)
    widths_px = np.asarray(truth.widths_um) / 1000.0 * case.px_per_mm
    lengths = np.hypot(*(shafts_px[:, 2:] - shafts_px[:, :2]).T)
    traces = [hair for hair in result.hairs if hair.counted]
    runs = np.zeros((len(shafts_px), len(traces)))
    for t, trace in enumerate(traces):
        start, end = np.asarray(trace.start_px), np.asarray(trace.end_px)
        runs[:, t] = runs_along(shafts_px, widths_px, start, end)
    hair_of_trace = np.full(len(traces), -1)
    trace_of_hair = np.full(len(shafts_px), -1)
    for hair, t in zip(*linear_sum_assignment(-runs), strict=True):
        if runs[hair, t] >= FOUND_SHARE * lengths[hair]:
            hair_of_trace[t], trace_of_hair[hair] = hair, t

    counts = Counter(true=len(shafts_px), found=len(traces), counted=result.figures["hair_count"])
    least_px = MIN_HAIR_LENGTH_MM * case.px_per_mm
    uncovered_px, untouched_px = clear_lengths_px(shafts_px, widths_px)
    hidden, touching = uncovered_px < least_px, untouched_px < least_px
    true_vellus = np.asarray(truth.widths_um) < VELLUS_THRESHOLD_UM
    found_vellus = np.array([bool(trace.vellus) for trace in traces], bool)
    missed = trace_of_hair < 0
    counts.update(
        {
            "hidden": int(hidden.sum()),
            "hidden, missed": int((hidden & missed).sum()),
            "touching": int(touching.sum()),
            "touching, missed": int((touching & missed).sum()),
        }
    )
    read_vellus = found_vellus[np.maximum(trace_of_hair, 0)] & ~missed
    counts.update(
        {
            "true vellus": int(true_vellus.sum()),
            "found vellus": int(found_vellus.sum()),
            "missed vellus": int((missed & true_vellus).sum()),
            "missed terminal": int((missed & ~true_vellus).sum()),
            "vellus read as terminal": int((~missed & true_vellus & ~read_vellus).sum()),
            "terminal read as vellus": int((~missed & ~true_vellus & read_vellus).sum()),
            "unmatched vellus traces": int((found_vellus & (hair_of_trace < 0)).sum()),
        }
    )
    left_out = [hair for hair in result.hairs if not hair.counted]
    units = np.asarray(truth.units_of_hairs)
    for hair in np.flatnonzero(missed):
        if runs[hair].any():
            holder = hair_of_trace[int(np.argmax(runs[hair]))]
            counts[missed_cause(holder, units[holder] == units[hair])] += 1
        else:
            traced = any(
                runs_along(
                    shafts_px[hair : hair + 1],
                    widths_px[hair : hair + 1],
                    np.asarray(trace.start_px),
                    np.asarray(trace.end_px),
                )[0]
                >= FOUND_SHARE * lengths[hair]
                for trace in left_out
            )
            counts["traced, not counted at the border" if traced else "untouched"] += 1
    for t in np.flatnonzero(hair_of_trace < 0):
        if runs[:, t].any():
            found_by = trace_of_hair[int(np.argmax(runs[:, t]))]
            counts["on a missed hair" if found_by < 0 else "second piece of a found hair"] += 1
        else:
            counts["on no counted hair"] += 1
    return dict(counts)


def missed_cause(holder: int, sibling: bool) -> str:
    """Why a hair was missed, by the hair (``holder``, −1 for none) that the trace running
    furthest along it was matched to, and whether that hair is of the same unit."""
    if holder < 0:
        return "under a short piece"
    return "merged with a sibling" if sibling else "merged with another unit's hair"


def report(rows: list[dict[str, int]], seed: int) -> None:
    true = np.array([row["true"] for row in rows], float)
    found = np.array([row["found"] for row in rows], float)
    total = Counter()
    for row in rows:
        total.update(row)
    print(
        f"phantom set (seed {seed}): {len(rows)} images, {int(true.sum())} hairs, "
        f"{int(found.sum())} counted traces"
    )
    missed = sum(total[cause] for cause in MISSED)
    print(f"  hairs missed: {missed} ({100 * missed / true.sum():.1f} % of hairs)")
    for cause in MISSED:
        print(f"    {cause:34s} {total[cause]:5d}")
    least = f"along all but {MIN_HAIR_LENGTH_MM} mm, the least hair traced"
    print(
        f"    hairs under another shaft (centre line covered {least}): "
        f"{total['hidden, missed']} missed of {total['hidden']}"
    )
    print(
        f"    hairs touching another (edges touching {least}): "
        f"{total['touching, missed']} missed of {total['touching']}"
    )
    extra = sum(total[cause] for cause in EXTRA)
    print(
        f"  counted traces matching no hair: {extra} ({100 * extra / found.sum():.1f} % of counted)"
    )
    for cause in EXTRA:
        print(f"    {cause:34s} {total[cause]:5d}")

    def line(name: str, counts: np.ndarray) -> None:
        error = 100 * (counts - true) / true
        unbiased = 100 * (counts / np.mean(counts / true) - true) / true
        print(
            f"    {name:44s} MAPE {np.mean(np.abs(error)):5.2f} %  bias {np.mean(error):+5.2f} %"
            f"  (at no bias {np.mean(np.abs(unbiased)):5.2f} %)"
        )

    vellus_report(rows, total)
    print("  count error; as traced, with one cause removed (each image's count corrected by it):")
    line("as counted, hidden hairs estimated", np.array([row["counted"] for row in rows], float))
    line("as traced", found)
    for cause in MISSED:
        line(f"+ {cause}", found + np.array([row.get(cause, 0) for row in rows]))
    line("+ hairs under another shaft", found + np.array([row["hidden, missed"] for row in rows]))
    for cause in EXTRA:
        line(f"- {cause}", found - np.array([row.get(cause, 0) for row in rows]))


def photo_conditions(case: TrichoscopyCase) -> np.ndarray:
    """(len(CONDITIONS),) what may make one photo hard to count, in ``CONDITIONS`` order: its
    scene's hairs per cm², share of vellus hairs and mean hair length (mm), and how it was
    shot (px per mm, blur σ px, noise σ, JPEG quality with 100 for lossless, strength of
    the shadow under the skin, number of bubbles)."""
    scene, shot = case.scene, case.conditions
    widths_um = np.array([hair.width_um for hair in scene.hairs])
    return np.array(
        [
            len(scene.hairs) / (scene.field_mm[0] * scene.field_mm[1]) * 100,
            np.mean(widths_um < VELLUS_THRESHOLD_UM),
            np.mean([hair.length_mm for hair in scene.hairs]),
            case.px_per_mm,
            shot.blur_sigma_px,
            shot.noise_sigma,
            shot.jpeg_quality or 100,
            shot.subskin_shadow,
            shot.bubbles,
        ]
    )


def condition_report(rows: list[dict[str, int]], conditions: np.ndarray) -> None:
    """Each image's missed and extra shares and count error fitted to its ``conditions``
    ((images, len(CONDITIONS)), standardised here) by least squares."""
    true = np.array([row["true"] for row in rows], float)
    counted = np.array([row["counted"] for row in rows], float)
    missed = np.array([sum(row.get(cause, 0) for cause in MISSED) for row in rows], float)
    extra = np.array([sum(row.get(cause, 0) for cause in EXTRA) for row in rows], float)
    spread = conditions.std(axis=0)
    standardised = (conditions - conditions.mean(axis=0)) / np.where(spread > 0, spread, 1)
    design = np.column_stack([standardised, np.ones(len(rows))])
    print("  per image, fitted to its conditions (points per SD of the set; R² of the fit):")
    print(f"    {'':22s}" + "".join(f"{name:>8s}" for name in CONDITIONS))
    for name, share in (
        ("missed, % of hairs", missed / true),
        ("extra, % of hairs", extra / true),
        ("count error, %", (counted - true) / true),
    ):
        coefficients, *_ = np.linalg.lstsq(design, 100 * share, rcond=None)
        residual = 100 * share - design @ coefficients
        r_squared = 1 - np.var(residual) / np.var(100 * share)
        fitted = "".join(f"{value:+8.1f}" for value in coefficients[:-1])
        spread_of_share = f"mean {100 * np.mean(share):.1f}, SD {100 * np.std(share):.1f}"
        print(f"    {name:22s}{fitted}   {spread_of_share}, R² {r_squared:.2f}")


def vellus_report(rows: list[dict[str, int]], total: Counter) -> None:
    column = {name: np.array([row.get(name, 0) for row in rows], float) for name in total}
    true_fraction = column["true vellus"] / column["true"]
    print(
        f"  vellus missed: {total['missed vellus']} of {total['true vellus']} "
        f"({100 * total['missed vellus'] / total['true vellus']:.1f} %); terminal missed: "
        f"{total['missed terminal']} of {total['true'] - total['true vellus']} "
        f"({100 * total['missed terminal'] / (total['true'] - total['true vellus']):.1f} %)"
    )
    print(
        f"  found hairs read as the wrong kind: {total['vellus read as terminal']} vellus as "
        f"terminal, {total['terminal read as vellus']} terminal as vellus; "
        f"{total['unmatched vellus traces']} vellus traces match no hair"
    )

    def line(name: str, vellus: np.ndarray, hairs: np.ndarray) -> None:
        error = vellus / np.maximum(hairs, 1) - true_fraction
        print(f"    {name:44s} error {np.mean(np.abs(error)):.4f}  bias {np.mean(error):+.4f}")

    found, vellus = column["found"], column["found vellus"]
    print("  vellus fraction error with one cause removed:")
    line("as measured", vellus, found)
    line("+ missed vellus hairs", vellus + column["missed vellus"], found + column["missed vellus"])
    missed = column["missed vellus"] + column["missed terminal"]
    line("+ all missed hairs", vellus + column["missed vellus"], found + missed)
    line("vellus read as terminal put right", vellus + column["vellus read as terminal"], found)
    line("terminal read as vellus put right", vellus - column["terminal read as vellus"], found)
    extra = sum(column[cause] for cause in EXTRA)
    line("- traces matching no hair", vellus - column["unmatched vellus traces"], found - extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the first 40 images")
    parser.add_argument("--seed", type=int, default=TRICHOSCOPY_BENCHMARK_SEED)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    add_hair_lengths_argument(parser)
    args = parser.parse_args()
    cases = trichoscopy_benchmark_set(
        count=40 if args.quick else 200,
        seed=args.seed,
        lengths_mm=(args.hair_lengths[0], args.hair_lengths[1]),
    )
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(budget, cases, chunksize=4))
    report(rows, args.seed)
    condition_report(rows, np.array([photo_conditions(case) for case in cases]))


if __name__ == "__main__":
    main()
