"""Verdict accuracy on phantom patients photographed through the real engine.

Half the patients truly gain 3 % of their hairs per session (new hairs, old ones stay put);
half are unchanged. Each visit (sessions 0–5) is photographed ``--replicates`` times under
changing conditions: lighting, exposure, white balance, blur, sensor noise, JPEG and pose.
The dermatoscope is re-placed at every visit (a relocation shift and turn shared by the
visit's photos) and every photo adds a small jitter. Every photo goes through the
product path: the quality gate and the engine (``tracker.analysis.analyze_image``) and
``tracker.registration.measure_on_baseline`` (what photo intake runs: registration to the
site's baseline photo, "different spot" check, hairs counted on the baseline's reference
region); verdicts come from ``tracker.progress`` as the service computes them, the verdict
at session k from sessions 0..k only.

Prints the photo noise on unchanged patients (within a visit, and the between-visit
component that a visit's photos share: the figures behind ``photo_cv`` and ``visit_cv`` in
tracker/progress.py), then, with all replicates or the first photo only, registered or whole
frame, the share of gaining and of unchanged patients judged ``improving`` at sessions 3, 4
and 5 and the worst session for the unchanged.

    python benchmarks/verdicts.py            # 40 patients (seed 2026): the reported figures
    python benchmarks/verdicts.py --quick    # 12 patients (seed 11): the set photo_cv and
                                             # visit_cv are fitted on
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.analysis import analyze_image
from tracker.phantoms import (
    TrichoscopyConditions,
    TrichoscopyScene,
    make_trichoscopy_scene,
    random_conditions,
    render_trichoscopy,
)
from tracker.progress import (
    MEASURES,
    MEASURES_BY_VIEW,
    MeasureSpec,
    photo_measures,
    progress_at_each_session,
)
from tracker.registration import measure_on_baseline, reference_region

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
QUICK_PATIENTS = 12
QUICK_SEED = 11
FULL_SEED = 2026


Measures = dict[str, float | None]
TRACKED = MEASURES_BY_VIEW["trichoscopy"]


@dataclass(frozen=True)
class PatientPhotos:
    gaining: bool
    # [session][replicate] tracked measures on the whole frame / on the registered reference
    # region; None when the quality gate failed the photo (or, registered, a different spot).
    full_frame: list[list[Measures | None]]
    registered: list[list[Measures | None]]
    # Per session: the exact density of the whole frames (mean over the visit's photos)
    # and of the baseline's reference region (the same patch of scalp at every visit).
    true_density: list[float]
    true_region_density: list[float]
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
    baseline_conditions = None
    scenes, full_frame, registered, truth_density = [], [], [], []
    failed_quality = different_spot = 0
    for session in range(SESSIONS):
        if gaining and session > 0:
            scene = scene.with_hair_gain(GAIN_PER_SESSION, seed=int(rng.integers(2**31)))
        scenes.append(scene)
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
            # Like the product: a photo the quality gate or the engine flags does not count.
            measurement = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM, overlay=False)
            if not measurement.quality.ok:
                failed_quality += 1
                session_full.append(None)
                session_registered.append(None)
                continue
            result = measurement.trichoscopy
            assert result is not None  # a close-up's measurement keeps its traced hairs
            # The first photo passing the gate is the site's baseline, as at intake.
            registration, in_region = measure_on_baseline(rgb, result, baseline_rgb=baseline_rgb)
            if baseline_rgb is None:
                baseline_rgb, baseline_conditions = rgb, conditions
            different_spot += not registration.same_spot
            session_full.append(photo_measures(result.figures))
            session_registered.append(None if in_region is None else photo_measures(in_region))
        full_frame.append(session_full)
        registered.append(session_registered)
        truth_density.append(float(np.mean(session_truth)))
    return PatientPhotos(
        gaining,
        full_frame,
        registered,
        truth_density,
        [
            true_region_density(scene, conditions=baseline_conditions)
            if baseline_conditions is not None
            else math.nan
            for scene in scenes
        ],
        failed_quality,
        different_spot,
    )


def true_region_density(scene: TrichoscopyScene, *, conditions: TrichoscopyConditions) -> float:
    """Exact density of ``scene`` on the reference region of a baseline photo taken with
    ``conditions``: hairs counted by their midpoint, like the engine."""
    _rgb, truth = render_trichoscopy(
        scene, px_per_mm=PX_PER_MM, size_px=(FRAME_PX, FRAME_PX), conditions=conditions
    )
    region = reference_region((FRAME_PX, FRAME_PX))
    inside = sum(
        bool(region[int(y), int(x)])
        for x, y in truth.midpoints_px
        if 0 <= x < FRAME_PX and 0 <= y < FRAME_PX
    )
    return inside / (float(region.sum()) / PX_PER_MM**2 / 100.0)


def series(patient: PatientPhotos, *, registered: bool, measure: str) -> list[list[float | None]]:
    photos = patient.registered if registered else patient.full_frame
    return [[None if p is None else p[measure] for p in visit] for visit in photos]


def verdicts_by_session(
    values: list[list[float | None]], *, replicates: int, spec: MeasureSpec = DENSITY
) -> dict[int, str]:
    # The first photos that passed the gate, as a clinic retakes a failed shot.
    by_session = {
        session: [v for v in visit if v is not None][:replicates]
        for session, visit in enumerate(values)
    }
    return {
        session: judged.verdict
        for session, judged in progress_at_each_session(by_session, spec=spec).items()
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


def visit_means(patient: list[list[float | None]]) -> tuple[list[float], list[int]]:
    """The mean of each visit's counted photos, and how many photos each mean has."""
    kept = [[v for v in visit if v is not None] for visit in patient]
    return [float(np.mean(k)) for k in kept if k], [len(k) for k in kept if k]


def between_visit_cv(values: list[list[list[float | None]]]) -> float:
    """CV of the first counted photo of each visit across the visits of one patient."""
    firsts = [[[next((v for v in visit if v is not None), None)] for visit in p] for p in values]
    return visit_mean_cv(firsts)


def visit_mean_cv(values: list[list[list[float | None]]]) -> float:
    """CV of a visit's mean across the visits of one (unchanged) patient, pooled."""
    squares, df = 0.0, 0
    for patient in values:
        means, _counts = visit_means(patient)
        if len(means) >= 2 and np.mean(means) > 0:
            squares += (len(means) - 1) * (np.std(means, ddof=1) / np.mean(means)) ** 2
            df += len(means) - 1
    return math.sqrt(squares / df) if df else math.nan


def visit_component_cv(values: list[list[list[float | None]]], *, within_cv: float) -> float:
    """The between-visit CV that a visit's photos share: the visit means' variance less the
    part their photo noise explains (within² / photos per visit), floored at 0."""
    counts = [n for patient in values for n in visit_means(patient)[1]]
    if not counts:
        return math.nan
    per_visit = within_cv**2 * float(np.mean([1 / n for n in counts]))
    return math.sqrt(max(visit_mean_cv(values) ** 2 - per_visit, 0.0))


def print_noise(patients: list[PatientPhotos]) -> None:
    """Photo noise per measure on the unchanged patients, and the constants in use."""
    unchanged = [p for p in patients if not p.gaining]
    print(
        f"photo noise, CV in %: within a visit (all {len(patients)} patients); between visits "
        f"and the visit component on the {len(unchanged)} unchanged (photo_cv and visit_cv "
        "are fitted on --quick, rounded up; the constants in use are on the right):"
    )
    print(
        f"{'measure':<40} {'within visit':>12} {'1 photo between visits':>23} "
        f"{'visit component':>16} {'in use photo_cv/visit_cv':>25}"
    )
    for registered in (True, False):
        for measure in TRACKED:
            values = [series(p, registered=registered, measure=measure) for p in unchanged]
            # Replicates agree as well on gaining scalps: every patient's visits count here.
            within = within_visit_cv(
                [series(p, registered=registered, measure=measure) for p in patients]
            )
            label = f"{measure}, {'registered' if registered else 'whole frame'}"
            spec = MEASURES[measure].for_series(registered=registered)
            in_use = f"{100 * spec.photo_cv:.1f} / {100 * spec.visit_cv:.1f}"
            print(
                f"{label:<40} {100 * within:>12.2f} {100 * between_visit_cv(values):>23.2f} "
                f"{100 * visit_component_cv(values, within_cv=within):>16.2f} {in_use:>25}"
            )


def print_change_error(patients: list[PatientPhotos]) -> None:
    """How far the measured change from baseline (visit means of density) is from the
    true change of what was measured: the baseline's reference region when registered,
    the visit's frames when not. In points of percent of the baseline."""
    print("density change error, measured − true change from baseline (percentage points):")
    for registered in (True, False):
        errors: dict[int, list[float]] = {s: [] for s in REPORTED_SESSIONS}
        for patient in patients:
            means, _counts = visit_means(
                series(patient, registered=registered, measure=DENSITY.name)
            )
            truth = patient.true_region_density if registered else patient.true_density
            if len(means) < SESSIONS:
                continue
            for session in REPORTED_SESSIONS:
                measured = 100 * (means[session] / means[0] - 1)
                errors[session].append(measured - 100 * (truth[session] / truth[0] - 1))
        cells = ", ".join(
            f"session {s}: RMS {math.sqrt(np.mean(np.square(e))):.1f}, bias {np.mean(e):+.1f}"
            for s, e in errors.items()
            if e
        )
        print(f"  {'registered' if registered else 'whole frame':<12} {cells}")


CONFIGURATIONS: tuple[tuple[str, int | None, bool, MeasureSpec], ...] = (
    # (label, photos per visit (None: all), registered, spec)
    ("all photos/visit, registered (product)", None, True, DENSITY),
    ("all photos/visit, registered, no visit term", None, True, replace(DENSITY, visit_cv=0.0)),
    ("all photos/visit, whole frame", None, False, DENSITY.for_series(registered=False)),
    ("1 photo/visit, registered", 1, True, DENSITY),
    ("1 photo/visit, whole frame", 1, False, DENSITY.for_series(registered=False)),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_PATIENTS} patients of seed {QUICK_SEED}: the set the constants are fitted on",
    )
    parser.add_argument("--patients", type=int, default=40, help="total, half of them gaining")
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes (1: the shared-machine default)"
    )
    parser.add_argument(
        "--seed", type=int, help=f"default {FULL_SEED}, or {QUICK_SEED} with --quick"
    )
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
    total = QUICK_PATIENTS if args.quick else args.patients
    seed = args.seed if args.seed is not None else QUICK_SEED if args.quick else FULL_SEED
    tasks = [(i, i % 2 == 0, args.replicates, args.severity, seed) for i in range(total)]
    started, cpu_started = time.perf_counter(), time.process_time()
    if args.from_raw:
        patients = [PatientPhotos(**p) for p in json.loads(args.from_raw.read_text())]
        total = len(patients)
    elif args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            patients = list(pool.map(photograph_patient, tasks))
    else:
        patients = [photograph_patient(task) for task in tasks]
    if args.save_raw:
        args.save_raw.write_text(json.dumps([asdict(p) for p in patients]))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    gaining = [p for p in patients if p.gaining]
    unchanged = [p for p in patients if not p.gaining]
    photos = sum(len(v) for p in patients for v in p.registered)
    failed = sum(p.failed_quality for p in patients)
    flagged = sum(p.different_spot for p in patients)
    true_gain = np.mean([p.true_density[5] / p.true_density[0] - 1 for p in gaining])
    region_gain = np.mean(
        [p.true_region_density[5] / p.true_region_density[0] - 1 for p in gaining]
    )
    print(
        f"{total} phantom patients, seed {seed} ({len(gaining)} gaining "
        f"{100 * GAIN_PER_SESSION:.0f} % of hairs per session, {len(unchanged)} unchanged), "
        f"sessions 0-{SESSIONS - 1}, {args.replicates} photos per visit, {FRAME_PX}x{FRAME_PX} px "
        f"at {PX_PER_MM:.0f} px/mm (1 cm²), condition severity {args.severity}, relocation "
        f"±{VISIT_SHIFT_MM} mm ±{VISIT_TURN_DEG}° per visit"
    )
    print(
        f"{photos} photos in {elapsed:.0f} s wall, {cpu:.0f} s CPU in the main process "
        f"({args.workers} worker{'s' if args.workers > 1 else ''})"
    )
    print(
        f"true density gain of gaining patients by session 5: {100 * true_gain:+.1f} % "
        f"(whole frames), {100 * region_gain:+.1f} % (reference region)"
    )
    print(
        f"quality gate failed {failed} of {photos} photos; registration flagged {flagged} "
        "of the rest as a different spot"
    )
    print_noise(patients)
    print_change_error(patients)
    print()
    print("share of patients judged `improving` on density (targets: gaining >= 80 % by")
    print("session 5; unchanged <= 5 % at every session):")
    print(
        f"{'configuration':<46} {'session':>7}  {'gaining: improving':>20}  "
        f"{'unchanged: improving':>20}"
    )
    for label, per_visit, registered, spec in CONFIGURATIONS:
        if per_visit is not None and per_visit >= args.replicates:
            continue
        verdicts = {
            id(p): verdicts_by_session(
                series(p, registered=registered, measure=DENSITY.name),
                replicates=per_visit or args.replicates,
                spec=spec,
            )
            for p in patients
        }
        for session in REPORTED_SESSIONS:
            hits = sum(verdicts[id(p)][session] == "improving" for p in gaining)
            false = sum(verdicts[id(p)][session] == "improving" for p in unchanged)
            print(
                f"{label:<46} {session:>7}  {share(hits, len(gaining)):>20}  "
                f"{share(false, len(unchanged)):>20}"
            )
        worst = max(
            sum(verdicts[id(p)][s] == "improving" for p in unchanged) for s in range(1, SESSIONS)
        )
        ever = sum(
            any(verdicts[id(p)][s] == "improving" for s in range(1, SESSIONS)) for p in unchanged
        )
        print(
            f"{label:<46} {'worst':>7}  {'':>20}  {share(worst, len(unchanged)):>20}"
            f"   (ever improving at some session: {share(ever, len(unchanged))})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
