"""Verdict accuracy on phantom patients photographed through the real engine.

Half the patients truly gain 3 % of their hairs per session (new hairs, old ones stay put);
half are unchanged. Each visit (sessions 0–5) is photographed ``--replicates`` times under
changing conditions: lighting, exposure, white balance, blur, sensor noise, JPEG and pose.
The dermatoscope is re-placed at every visit (a relocation shift and turn shared by the
visit's photos) and every photo adds a small jitter. Every photo is measured by the engine
(``measure_trichoscopy``) on the whole frame and, after registration to the baseline photo,
on the baseline's reference region. The verdict at session k uses sessions 0..k only.

Prints, for each of: all replicates or the first photo only, with or without registration,
the share of gaining and of unchanged patients judged ``improving`` at sessions 3, 4 and 5,
the worst session for the unchanged, and the noise figures behind the MDC.

    python benchmarks/verdicts.py            # 40 patients, about 10 minutes on 2 cores
    python benchmarks/verdicts.py --quick    # 6 patients, a smoke run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.imaging.quality import assess_quality
from tracker.imaging.trichoscopy import measure_trichoscopy
from tracker.phantoms import (
    make_trichoscopy_scene,
    random_conditions,
    render_trichoscopy,
)
from tracker.progress import (
    MEASURES,
    MEASURES_BY_VIEW,
    photo_measures,
    progress_at_each_session,
)
from tracker.registration import (
    figures_in_region,
    identity_registration,
    region_in_photo,
    register,
)

GAIN_PER_SESSION = 0.03
SESSIONS = 6  # 0 (baseline) .. 5
REPORTED_SESSIONS = (3, 4, 5)
PX_PER_MM = 60.0
FRAME_PX = 600  # 10 mm × 10 mm = 1 cm²
SCENE_MARGIN_MM = 3.0
VISIT_SHIFT_MM = 0.4
VISIT_TURN_DEG = 4.0
DEFAULT_SEVERITY = 0.3
DENSITY = MEASURES["density_per_cm2"]


Measures = dict[str, float | None]
TRACKED = MEASURES_BY_VIEW["trichoscopy"]


@dataclass(frozen=True)
class PatientPhotos:
    gaining: bool
    # [session][replicate] tracked measures on the whole frame / on the registered reference
    # region; None when the quality gate failed the photo (or, registered, a different spot).
    full_frame: list[list[Measures | None]]
    registered: list[list[Measures | None]]
    true_density: list[float]
    failed_quality: int
    different_spot: int


def photograph_patient(task: tuple[int, bool, int, float, int]) -> PatientPhotos:
    index, gaining, replicates, severity, seed = task
    import cv2

    cv2.setNumThreads(1)
    rng = np.random.default_rng([seed, index])
    frame_mm = FRAME_PX / PX_PER_MM
    scene = make_trichoscopy_scene(
        seed=int(rng.integers(2**31)),
        density_per_cm2=float(rng.uniform(120.0, 240.0)),
        vellus_fraction=float(rng.uniform(0.05, 0.3)),
        field_mm=(frame_mm + SCENE_MARGIN_MM, frame_mm + SCENE_MARGIN_MM),
        skin_tone=int(rng.integers(1, 5)),
        hair_colour=("dark", "brown")[int(rng.integers(2))],
    )
    baseline_rgb: np.ndarray | None = None
    full_frame, registered, truth_density = [], [], []
    failed_quality = different_spot = 0
    for session in range(SESSIONS):
        if gaining and session > 0:
            scene = scene.with_hair_gain(GAIN_PER_SESSION, seed=int(rng.integers(2**31)))
        visit_shift = rng.uniform(-VISIT_SHIFT_MM, VISIT_SHIFT_MM, 2)
        visit_turn = float(rng.uniform(-VISIT_TURN_DEG, VISIT_TURN_DEG))
        session_full: list[Measures | None] = []
        session_registered: list[Measures | None] = []
        session_truth = []
        for _replicate in range(replicates):
            conditions = random_conditions(rng, severity=severity)
            conditions = replace(
                conditions,
                caption=None,
                bubbles=0,
                shift_mm=tuple(visit_shift + np.asarray(conditions.shift_mm)),
                rotation_deg=visit_turn + conditions.rotation_deg,
            )
            rgb, truth = render_trichoscopy(
                scene, px_per_mm=PX_PER_MM, size_px=(FRAME_PX, FRAME_PX), conditions=conditions
            )
            session_truth.append(truth.density_per_cm2)
            # Like the product: a photo failing the quality gate does not count.
            if not assess_quality(rgb, view="trichoscopy", px_per_mm=PX_PER_MM).ok:
                failed_quality += 1
                session_full.append(None)
                session_registered.append(None)
                continue
            result = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM)
            if baseline_rgb is None:
                baseline_rgb, registration = rgb, identity_registration()
            else:
                registration = register(baseline_rgb, rgb)
            in_region = None
            different_spot += not registration.same_spot
            if registration.same_spot:
                region = region_in_photo(
                    registration, baseline_shape=baseline_rgb.shape[:2], photo_shape=rgb.shape[:2]
                )
                in_region = photo_measures(figures_in_region(result, region, px_per_mm=PX_PER_MM))
            session_full.append(photo_measures(result.figures))
            session_registered.append(in_region)
        full_frame.append(session_full)
        registered.append(session_registered)
        truth_density.append(float(np.mean(session_truth)))
    return PatientPhotos(
        gaining, full_frame, registered, truth_density, failed_quality, different_spot
    )


def series(patient: PatientPhotos, *, registered: bool, measure: str) -> list[list[float | None]]:
    photos = patient.registered if registered else patient.full_frame
    return [[None if p is None else p[measure] for p in visit] for visit in photos]


def verdicts_by_session(values: list[list[float | None]], *, replicates: int) -> dict[int, str]:
    # The first photos that passed the gate, as a clinic retakes a failed shot.
    by_session = {
        session: [v for v in visit if v is not None][:replicates]
        for session, visit in enumerate(values)
    }
    return {
        session: judged.verdict
        for session, judged in progress_at_each_session(by_session, spec=DENSITY).items()
    }


def share(count: int, total: int) -> str:
    return f"{100 * count / total:5.1f} % ({count}/{total})" if total else "   - "


def within_visit_cv(values: list[list[list[float | None]]]) -> float:
    """CV of one photo within a visit, pooled over every visit (per-visit relative SDs)."""
    squares, df = 0.0, 0
    for patient in values:
        for visit in patient:
            kept = [v for v in visit if v is not None]
            if len(kept) >= 2 and np.mean(kept) > 0:
                squares += (len(kept) - 1) * (np.std(kept, ddof=1) / np.mean(kept)) ** 2
                df += len(kept) - 1
    return math.sqrt(squares / df) if df else math.nan


def between_visit_cv(values: list[list[list[float | None]]]) -> float:
    """CV of the first counted photo of each visit across the visits of one patient."""
    squares, df = 0.0, 0
    for patient in values:
        firsts = [kept[0] for visit in patient if (kept := [v for v in visit if v is not None])]
        if len(firsts) >= 2 and np.mean(firsts) > 0:
            squares += (len(firsts) - 1) * (np.std(firsts, ddof=1) / np.mean(firsts)) ** 2
            df += len(firsts) - 1
    return math.sqrt(squares / df) if df else math.nan


def print_noise(patients: list[PatientPhotos]) -> None:
    """Photo noise per measure; the between-visit CV (unchanged patients) sets default_cv."""
    unchanged = [p for p in patients if not p.gaining]
    print(f"{'photo noise (CV of one photo)':<40} {'within visit':>13} {'between visits':>15}")
    for registered in (False, True):
        for measure in TRACKED:
            label = f"{measure}, {'registered' if registered else 'whole frame'}"
            within = within_visit_cv(
                [series(p, registered=registered, measure=measure) for p in patients]
            )
            between = between_visit_cv(
                [series(p, registered=registered, measure=measure) for p in unchanged]
            )
            print(f"{label:<40} {100 * within:>11.1f} % {100 * between:>13.1f} %")
    print(
        "default_cv in tracker/progress.py: "
        + ", ".join(f"{m} {100 * MEASURES[m].default_cv:.1f} %" for m in TRACKED)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 patients, for a smoke run")
    parser.add_argument("--patients", type=int, default=40, help="total, half of them gaining")
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--save-raw", type=Path, help="write every photo's figures as JSON")
    parser.add_argument(
        "--from-raw", type=Path, help="judge figures saved by --save-raw instead of photographing"
    )
    parser.add_argument(
        "--severity",
        type=float,
        default=DEFAULT_SEVERITY,
        help="photo condition severity, 0 clean to 1 poor (phantoms.random_conditions)",
    )
    args = parser.parse_args()
    total = 6 if args.quick else args.patients
    tasks = [(i, i % 2 == 0, args.replicates, args.severity, args.seed) for i in range(total)]
    started = time.perf_counter()
    if args.from_raw:
        patients = [PatientPhotos(**p) for p in json.loads(args.from_raw.read_text())]
        total = len(patients)
    else:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            patients = list(pool.map(photograph_patient, tasks))
    if args.save_raw:
        args.save_raw.write_text(json.dumps([asdict(p) for p in patients]))
    elapsed = time.perf_counter() - started
    gaining = [p for p in patients if p.gaining]
    unchanged = [p for p in patients if not p.gaining]
    photos = sum(len(v) for p in patients for v in p.registered)
    failed = sum(p.failed_quality for p in patients)
    flagged = sum(p.different_spot for p in patients)
    true_gain = np.mean([p.true_density[5] / p.true_density[0] - 1 for p in gaining])
    print(
        f"{total} phantom patients ({len(gaining)} gaining {100 * GAIN_PER_SESSION:.0f} % of "
        f"hairs per session, {len(unchanged)} unchanged), sessions 0-{SESSIONS - 1}, "
        f"{args.replicates} photos per visit, {FRAME_PX}x{FRAME_PX} px at {PX_PER_MM:.0f} px/mm "
        f"(1 cm²), condition severity {args.severity}, relocation ±{VISIT_SHIFT_MM} mm "
        f"±{VISIT_TURN_DEG}° per visit; {photos} photos in {elapsed:.0f} s "
        f"({args.workers} workers)"
    )
    print(f"true density gain of gaining patients by session 5: {100 * true_gain:+.1f} %")
    print(
        f"quality gate failed {failed} of {photos} photos; registration flagged {flagged} "
        "of the rest as a different spot"
    )
    print_noise(patients)
    print()
    print(
        f"{'configuration':<36} {'session':>7}  {'gaining: improving':>20}  "
        f"{'unchanged: improving':>20}"
    )
    for replicates in sorted({args.replicates, 1}, reverse=True):
        for registered in (True, False):
            config = (
                f"{replicates} photo{'s' if replicates > 1 else ''}/visit, "
                f"{'registered' if registered else 'unregistered'}"
            )
            verdicts = {
                id(p): verdicts_by_session(
                    series(p, registered=registered, measure=DENSITY.name),
                    replicates=replicates,
                )
                for p in patients
            }
            for session in REPORTED_SESSIONS:
                hits = sum(verdicts[id(p)][session] == "improving" for p in gaining)
                false = sum(verdicts[id(p)][session] == "improving" for p in unchanged)
                print(
                    f"{config:<36} {session:>7}  {share(hits, len(gaining)):>20}  "
                    f"{share(false, len(unchanged)):>20}"
                )
            worst = max(
                sum(verdicts[id(p)][s] == "improving" for p in unchanged)
                for s in range(1, SESSIONS)
            )
            ever = sum(
                any(verdicts[id(p)][s] == "improving" for s in range(1, SESSIONS))
                for p in unchanged
            )
            print(
                f"{config:<36} {'worst':>7}  {'':>20}  {share(worst, len(unchanged)):>20}"
                f"   (ever improving at some session: {share(ever, len(unchanged))})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
