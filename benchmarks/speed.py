"""Measuring speed: one 12-megapixel photo on one core, and a batch through the CLI.

    python benchmarks/speed.py [--repeats 3] [--batch 100] [--batch-size 2000x1500] [--quick]

Part 1 pins this process to one CPU (and OpenCV to one thread) and, for each view, times
on a 12-MP (4000×3000) phantom JPEG: the decode alone (the floor no pipeline can beat:
OpenCV's, which intake uses; Pillow's, with its copy into numpy, is shown too), intake
(decode, orientation, metadata strip, and a re-encode where one is needed) and the
analysis as the app runs it (calibration, quality gate, measurement, and the overlay
drawn at the size the app stores, ``OVERLAY_LONG_SIDE_PX``). It reports the median of
``--repeats`` runs, the Python/numpy heap peak of one analysis (tracemalloc; OpenCV's
internal buffers are not traced) and the process's peak resident memory. It then splits
the analysis into its steps, CPU seconds each: the ArUco search (``--aruco-mm`` given, no
marker in the frame, so the whole search runs), the quality gate, the engine and the
app's overlay; the steps around the engines have a budget of 0.3 s together with intake.
The analysis without an overlay (``python -m tracker analyze`` without ``--overlay-dir``)
and with one at full size (with it) are timed too, as is intake of the same photo with an
EXIF rotation (which must be re-encoded), and writing the full-size overlay PNG as
``--overlay-dir`` does (once).

Part 2 writes ``--batch`` phantom photos and runs ``python -m tracker analyze --json`` on
them with 1 and 2 workers, and prints wall-clock and CPU seconds a photo (CPU of all the
processes, workers included). The wall-clock speed-up only means something on an
otherwise idle machine: the load average is printed alongside.

``--quick``: one repeat and a batch of 6, for trying changes.

The 12-MP phantoms are rendered at 2000×1500 and upscaled ×2 (the trichoscopy one then
stands for 250 px/mm): rendering 12 MP directly takes the phantom generators minutes, and
the measuring cost depends on the pixel count and the field of view, which are the same.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.analysis import (  # noqa: E402
    _coverage_overlay,
    _trichoscopy_overlay,
    analyze_image,
)
from tracker.batch import write_overlay  # noqa: E402
from tracker.imaging.calibration import calibrate  # noqa: E402
from tracker.imaging.coverage import measure_coverage  # noqa: E402
from tracker.imaging.intake import prepare_image  # noqa: E402
from tracker.imaging.quality import assess_quality  # noqa: E402
from tracker.imaging.trichoscopy import measure_trichoscopy  # noqa: E402
from tracker.phantoms import (  # noqa: E402
    TrichoscopyConditions,
    make_global_scene,
    make_trichoscopy_scene,
    render_global,
    render_trichoscopy,
)
from tracker.services.photos import OVERLAY_LONG_SIDE_PX  # noqa: E402

LIMIT_S = 1.0
AROUND_ENGINE_BUDGET_S = 0.3
ARUCO_MM = 5.0
EXIF_ORIENTATION_TAG = 0x0112
PHOTO_SIZE_PX = (4000, 3000)
RENDER_PX_PER_MM = 125.0
PHOTO_PX_PER_MM = 250.0
CONDITIONS = TrichoscopyConditions(noise_sigma=0.01, blur_sigma_px=0.6)


def trichoscopy_jpeg(size_px: tuple[int, int], *, seed: int = 0) -> tuple[bytes, float]:
    """A trichoscopy phantom of ``size_px`` (width, height) as JPEG bytes, and its px/mm."""
    half = (size_px[0] // 2, size_px[1] // 2)
    scene = make_trichoscopy_scene(
        seed=seed,
        field_mm=(half[0] / RENDER_PX_PER_MM + 2.0, half[1] / RENDER_PX_PER_MM + 2.0),
    )
    rgb, _truth = render_trichoscopy(
        scene, px_per_mm=RENDER_PX_PER_MM, size_px=half, conditions=CONDITIONS
    )
    full = cv2.resize(rgb, size_px, interpolation=cv2.INTER_CUBIC)
    return _jpeg(full), 2 * RENDER_PX_PER_MM


def global_jpeg(size_px: tuple[int, int], *, seed: int = 0) -> bytes:
    """A global-photo phantom of ``size_px`` (width, height) as JPEG bytes."""
    scene = make_global_scene(seed=seed, coverage_target=60.0)
    rgb, _truth = render_global(scene, size_px=(size_px[1] // 2, size_px[0] // 2))
    return _jpeg(cv2.resize(rgb, size_px, interpolation=cv2.INTER_CUBIC))


def _jpeg(rgb: np.ndarray, *, orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation != 1:
        exif[EXIF_ORIENTATION_TAG] = orientation
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92, exif=exif.tobytes())
    return buffer.getvalue()


def _rotated(data: bytes) -> bytes:
    """The JPEG ``data`` re-saved with its pixels turned and an EXIF tag turning them back."""
    upright = np.asarray(Image.open(io.BytesIO(data)))
    return _jpeg(np.rot90(upright, k=1), orientation=6)


def _timed(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``repeats`` calls of ``run``."""
    wall, cpu = [], []
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall), statistics.median(cpu)


def _decode_pillow(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def _decode_opencv(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR_RGB)


def single_photo(repeats: int) -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    photos = {
        "trichoscopy": (trichoscopy_jpeg(PHOTO_SIZE_PX)[0], PHOTO_PX_PER_MM),
        "global": (global_jpeg(PHOTO_SIZE_PX), None),
    }
    width, height = PHOTO_SIZE_PX
    print(
        f"\nOne {width}×{height} JPEG on one core, median of {repeats}, seconds wall / CPU "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    print(f"{'view':<12} {'decode (floor)':>15} {'Pillow decode':>14} {'intake':>12} "
          f"{'analysis':>12} {'total':>12} {'× decode':>9} {'heap peak':>10}")  # fmt: skip
    steps = {}
    other_overlays = {}
    for view, (data, px_per_mm) in photos.items():
        decode = _timed(lambda data=data: _decode_opencv(data), repeats)
        pillow = _timed(lambda data=data: _decode_pillow(data), repeats)
        intake = _timed(lambda data=data: prepare_image(data), repeats)
        rgb = prepare_image(data).rgb

        def analysis(rgb=rgb, view=view, px_per_mm=px_per_mm) -> object:
            return analyze_image(
                rgb, view=view, px_per_mm=px_per_mm, overlay_long_side_px=OVERLAY_LONG_SIDE_PX
            )

        analysed = _timed(analysis, repeats)
        tracemalloc.start()
        analysis()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        total = (intake[0] + analysed[0], intake[1] + analysed[1])
        print(
            f"{view:<12} {_pair(decode):>15} {_pair(pillow):>14} {_pair(intake):>12} "
            f"{_pair(analysed):>12} {_pair(total):>12} {total[1] / decode[1]:8.1f}× "
            f"{peak / 2**20:6.0f} MiB"
        )
        steps[view] = {"intake": intake[1], **_steps(rgb, view=view, px_per_mm=px_per_mm,
                                                     repeats=repeats)}  # fmt: skip
        other_overlays[view] = [
            _timed(partial(analyze_image, rgb, view=view, px_per_mm=px_per_mm, overlay=overlay),
                   repeats)
            for overlay in (False, True)
        ]  # fmt: skip
    print(
        f"Target: analysis within {LIMIT_S:.0f} s a photo (CPU time is the dedicated-core figure)."
    )
    print("\nSteps, CPU seconds (median):")
    names = ["intake", "ArUco search", "quality", "overlay", "around engine", "engine"]
    print(f"{'view':<12}" + "".join(f"{name:>15}" for name in names))
    for view, seconds in steps.items():
        around = sum(seconds[name] for name in ("intake", "ArUco search", "quality", "overlay"))
        row = {**seconds, "around engine": around}
        print(f"{view:<12}" + "".join(f"{row[name]:15.3f}" for name in names))
    print(f"Budget around the engine: {AROUND_ENGINE_BUDGET_S} s (intake, calibration, "
          "quality, overlay).")  # fmt: skip
    print(
        f"Analysis with the overlay drawn at the photo's size (overlay ≤ {OVERLAY_LONG_SIDE_PX} "
        "px above), and without one (the CLI without --overlay-dir), wall / CPU seconds:"
    )
    for view, (without, full) in other_overlays.items():
        print(f"{view:<12} full-size overlay {_pair(full)}, no overlay {_pair(without)}")
    rgb_tricho = prepare_image(photos["trichoscopy"][0]).rgb
    rotated = _rotated(photos["trichoscopy"][0])
    turned = _timed(lambda: prepare_image(rotated), repeats)
    print(f"Intake of the trichoscopy JPEG with an EXIF rotation (re-encoded): {_pair(turned)}")
    overlay = analyze_image(rgb_tricho, view="trichoscopy", px_per_mm=PHOTO_PX_PER_MM).overlay_rgb
    with tempfile.TemporaryDirectory() as folder:
        written = _timed(lambda: write_overlay(Path(folder) / "overlay.png", overlay), 1)
    print(f"Writing the trichoscopy overlay PNG (analyze --overlay-dir), once: {_pair(written)}")
    print(f"Peak resident memory of this process: {_maxrss_mib():.0f} MiB")


def _steps(
    rgb: np.ndarray, *, view: str, px_per_mm: float | None, repeats: int
) -> dict[str, float]:
    """Median CPU seconds of each step of ``analyze_image`` on ``rgb``."""
    aruco = _timed(lambda: calibrate(rgb, px_per_mm=px_per_mm, aruco_mm=ARUCO_MM), repeats)
    quality = _timed(lambda: assess_quality(rgb, view=view, px_per_mm=px_per_mm), repeats)  # type: ignore[arg-type]
    if view == "global":
        coverage = measure_coverage(rgb)
        engine = _timed(lambda: measure_coverage(rgb), repeats)
        overlay = _timed(
            lambda: _coverage_overlay(rgb, coverage, long_side_px=OVERLAY_LONG_SIDE_PX), repeats
        )
    else:
        result = measure_trichoscopy(rgb, px_per_mm=px_per_mm)
        engine = _timed(lambda: measure_trichoscopy(rgb, px_per_mm=px_per_mm), repeats)
        overlay = _timed(
            lambda: _trichoscopy_overlay(
                rgb, result, marker_corners_xy=None, long_side_px=OVERLAY_LONG_SIDE_PX
            ),
            repeats,
        )
    return {
        "ArUco search": aruco[1],
        "quality": quality[1],
        "overlay": overlay[1],
        "engine": engine[1],
    }


def _pair(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:.2f}/{seconds[1]:.2f}"


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(count: int, size_px: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        variants = [trichoscopy_jpeg(size_px, seed=seed)[0] for seed in range(4)]
        paths = []
        for index in range(count):
            path = Path(folder) / f"photo-{index:03d}.jpg"
            path.write_bytes(variants[index % len(variants)])
            paths.append(str(path))
        px_per_mm = str(PHOTO_PX_PER_MM * size_px[0] / PHOTO_SIZE_PX[0])
        print(f"\nBatch of {count} trichoscopy photos ({size_px[0]}×{size_px[1]}) through the CLI:")
        seconds = {}
        for workers in (1, 2):
            cpu_before = _children_cpu_s()
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "tracker", "analyze", *paths, "--view", "trichoscopy",
                 "--px-per-mm", px_per_mm, "--json", "--workers", str(workers)],
                cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            seconds[workers] = time.perf_counter() - start
            cpu_s = _children_cpu_s() - cpu_before
            print(
                f"  {workers} worker{'s' if workers > 1 else ' '}: {seconds[workers]:6.1f} s wall "
                f"({seconds[workers] / count:.2f} s a photo), {cpu_s / count:.2f} CPU s a photo, "
                f"load average {os.getloadavg()[0]:.1f}"
            )
        print(f"  speed-up with 2 workers: {seconds[1] / seconds[2]:.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="photos in the batch (0: skip)")
    parser.add_argument("--batch-size", default="2000x1500", help="batch photo size WxH")
    parser.add_argument("--quick", action="store_true", help="1 repeat, a batch of 6")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.batch = 1, min(args.batch, 6)
    print(f"Load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.batch:
        width, height = (int(part) for part in args.batch_size.split("x"))
        batch(args.batch, (width, height))
    single_photo(args.repeats)


if __name__ == "__main__":
    main()
