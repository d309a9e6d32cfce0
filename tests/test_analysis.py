"""The pipeline: calibration, quality and measurement joined into one Measurement."""

from __future__ import annotations

import io
from functools import cache

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.test_calibration import paste_marker
from tracker.analysis import ALGORITHM_VERSION, analyze_file, analyze_image
from tracker.imaging.coverage import RectRoi
from tracker.imaging.intake import prepare_image
from tracker.imaging.trichoscopy import HIDDEN_HAIRS_PER_UNTRACED_SHARE, measure_trichoscopy
from tracker.measurement import GLOBAL_FIGURES, TRICHOSCOPY_FIGURES
from tracker.phantoms import TrichoscopyConditions, make_trichoscopy_scene, render_trichoscopy

PX_PER_MM = 100.0
SIZE_PX = (960, 720)
TYPICAL = TrichoscopyConditions(noise_sigma=0.01)
PER_CM2_AND_UM = ("area_cm2", "density_per_cm2", "mean_width_um")


@cache
def _trichoscopy(conditions: TrichoscopyConditions = TYPICAL):
    scene = make_trichoscopy_scene(
        seed=11,
        density_per_cm2=180.0,
        field_mm=(SIZE_PX[0] / PX_PER_MM + 2, SIZE_PX[1] / PX_PER_MM + 2),
    )
    return render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=SIZE_PX, conditions=conditions)


@cache
def _global_photo() -> np.ndarray:
    """(768, 1024, 3): dense dark hair on the left half, bare scalp on the right."""
    rng = np.random.default_rng(2)
    image = np.empty((768, 1024, 3), dtype=np.uint8)
    image[:] = (205, 160, 140)
    image += rng.integers(0, 12, image.shape, dtype=np.uint8)
    for _ in range(900):
        x, y = rng.uniform(0, 500), rng.uniform(0, 768)
        angle = rng.uniform(-0.4, 0.4) + np.pi / 2
        end = (x + 120 * np.cos(angle), y + 120 * np.sin(angle))
        cv2.line(image, (int(x), int(y)), (int(end[0]), int(end[1])), (40, 28, 22), 3)
    return image


def test_trichoscopy_measurement_has_every_figure_and_tracks_the_truth() -> None:
    rgb, truth = _trichoscopy()
    measurement = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM)

    assert measurement.view == "trichoscopy"
    assert measurement.algorithm_version == ALGORITHM_VERSION
    assert (measurement.px_per_mm, measurement.px_per_mm_source) == (PX_PER_MM, "device")
    assert list(measurement.figures) == list(TRICHOSCOPY_FIGURES)
    assert measurement.quality.ok, measurement.quality.issues
    assert measurement.figures["area_cm2"] == pytest.approx(truth.area_cm2, rel=0.01)
    assert measurement.figures["density_per_cm2"] == pytest.approx(
        measurement.figures["hair_count"] / measurement.figures["area_cm2"]
    )
    # The engine's own accuracy is benchmarked elsewhere; here it only has to be in range.
    assert measurement.figures["hair_count"] == pytest.approx(truth.hair_count, rel=0.35)
    # One width a traced hair; the count adds the hairs no trace shows (at most all the
    # photo's cover's worth).
    traced = len(measurement.widths_um)
    assert (
        traced
        <= measurement.figures["hair_count"]
        <= traced * (1 + HIDDEN_HAIRS_PER_UNTRACED_SHARE)
    )
    assert measurement.overlay_rgb.shape == rgb.shape
    assert measurement.overlay_rgb.dtype == np.uint8
    assert measurement.notes == ()


def test_without_calibration_counts_remain_and_per_area_figures_are_none() -> None:
    rgb, _truth = _trichoscopy()
    measurement = analyze_image(rgb, view="trichoscopy")

    assert measurement.px_per_mm is None and measurement.px_per_mm_source is None
    assert measurement.figures["hair_count"] > 0
    assert measurement.figures["follicular_units"] > 0
    for name in PER_CM2_AND_UM:
        assert measurement.figures[name] is None
    assert measurement.widths_um == ()
    assert any("Uncalibrated" in note for note in measurement.notes)
    # Missing calibration is stated, but it is not a fault of the photo.
    assert measurement.quality.ok
    assert measurement.to_json()["px_per_mm"] is None


def test_aruco_marker_calibrates_and_is_kept_out_of_the_measured_area() -> None:
    rgb, _truth = _trichoscopy()
    with_marker, _corners = paste_marker(
        rgb, side_px=200.0, angle_deg=25.0, centre_xy=(400.0, 300.0)
    )

    measurement = analyze_image(with_marker, view="trichoscopy", aruco_mm=2.0)
    device = analyze_image(with_marker, view="trichoscopy", px_per_mm=PX_PER_MM)

    assert measurement.px_per_mm_source == "aruco"
    assert measurement.px_per_mm == pytest.approx(PX_PER_MM, rel=0.01)
    excluded_cm2 = device.figures["area_cm2"] - measurement.figures["area_cm2"]
    # The marker (2 mm × 2 mm) and its white margin, 0.04–0.12 cm².
    assert 0.04 < excluded_cm2 < 0.12
    # The marker's outline is drawn on the overlay.
    magenta = np.all(measurement.overlay_rgb == (255, 0, 255), axis=2)
    assert magenta.sum() > 4 * 200


def test_roi_limits_the_trichoscopy_area() -> None:
    rgb, _truth = _trichoscopy()
    roi = RectRoi(100, 50, 400, 300)
    measurement = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM, roi=roi)
    assert measurement.figures["area_cm2"] == pytest.approx(400 * 300 / PX_PER_MM**2 / 100)
    whole = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM)
    assert measurement.figures["hair_count"] < whole.figures["hair_count"]
    as_tuple = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM, roi=(100, 50, 400, 300))
    assert as_tuple.figures == measurement.figures


def test_vellus_threshold_is_passed_through() -> None:
    rgb, _truth = _trichoscopy()
    everything_vellus = analyze_image(
        rgb, view="trichoscopy", px_per_mm=PX_PER_MM, vellus_threshold_um=1000.0
    )
    figures = everything_vellus.figures
    assert figures["vellus_count"] == figures["hair_count"]
    assert figures["terminal_count"] == 0


def test_a_failing_photo_is_flagged_but_measured_exactly_the_same() -> None:
    rgb, _truth = _trichoscopy(TrichoscopyConditions(blur_sigma_px=2.5, bubbles=30))
    measurement = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM)
    assert {"blur", "glare"} <= {issue.code for issue in measurement.quality.issues}
    assert not measurement.to_json()["quality"]["ok"]
    direct = measure_trichoscopy(rgb, px_per_mm=PX_PER_MM)
    assert measurement.figures == direct.figures


def test_global_coverage_within_a_roi() -> None:
    rgb = _global_photo()
    hairy = RectRoi(0, 0, 500, 768)
    measurement = analyze_image(rgb, view="global", roi=hairy)

    assert list(measurement.figures) == list(GLOBAL_FIGURES)
    true_pct = 100.0 * float((rgb[:, :500].mean(axis=2) < 100).mean())
    assert measurement.figures["coverage_pct"] == pytest.approx(true_pct, abs=3.0)
    assert measurement.widths_um == () and measurement.notes == ()
    assert measurement.to_json()["coverage_pct"] == measurement.figures["coverage_pct"]
    assert measurement.overlay_rgb.shape == rgb.shape
    wider = analyze_image(rgb, view="global", roi=RectRoi(0, 0, 750, 768))
    assert wider.figures["coverage_pct"] < measurement.figures["coverage_pct"]


def test_overlay_is_drawn_only_when_asked_for_and_at_the_size_asked() -> None:
    rgb, _truth = _trichoscopy()
    full = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM)
    without = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM, overlay=False)
    small = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM, overlay_long_side_px=480)

    assert without.overlay_rgb is None
    assert without.figures == small.figures == full.figures
    assert small.overlay_rgb.shape == (360, 480, 3)
    # Every counted hair is drawn where it lies on the half-size copy.
    drawn = np.any(small.overlay_rgb != cv2.resize(rgb, (480, 360), cv2.INTER_AREA), axis=2)
    assert full.trichoscopy is not None
    counted = [hair for hair in full.trichoscopy.hairs if hair.counted]
    for hair in counted:
        x, y = (round((a + b) / 4) for a, b in zip(hair.start_px, hair.end_px, strict=True))
        assert drawn[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].any()


def test_a_small_overlay_keeps_the_marker_outline_and_the_coverage_tint() -> None:
    rgb, _truth = _trichoscopy()
    with_marker, _corners = paste_marker(
        rgb, side_px=200.0, angle_deg=25.0, centre_xy=(400.0, 300.0)
    )
    small = analyze_image(with_marker, view="trichoscopy", aruco_mm=2.0, overlay_long_side_px=480)
    magenta = np.all(small.overlay_rgb == (255, 0, 255), axis=2)
    assert magenta.sum() > 4 * 100
    rows, cols = np.nonzero(magenta)
    assert abs(rows.mean() - 150) < 5 and abs(cols.mean() - 200) < 5

    photo = _global_photo()
    hairy = RectRoi(0, 0, 500, 768)
    full = analyze_image(photo, view="global", roi=hairy)
    half = analyze_image(photo, view="global", roi=hairy, overlay_long_side_px=512)
    assert half.figures == full.figures
    assert half.overlay_rgb.shape == (384, 512, 3)

    # A pixel of the half-size overlay is tinted as hair where at least half of the four
    # pixels it stands for are at full size.
    def tinted(overlay: np.ndarray) -> np.ndarray:
        return (overlay[..., 2].astype(int) - overlay[..., 0] > 100).astype(np.uint8)

    halved = cv2.resize(tinted(full.overlay_rgb), (512, 384), interpolation=cv2.INTER_AREA)
    assert np.mean(tinted(half.overlay_rgb) == halved) > 0.99


def test_to_json_has_the_contract_keys_in_order() -> None:
    rgb, _truth = _trichoscopy()
    tricho = analyze_image(rgb, view="trichoscopy", px_per_mm=PX_PER_MM).to_json()
    assert list(tricho) == [
        "view",
        "px_per_mm",
        "algorithm_version",
        "quality",
        *TRICHOSCOPY_FIGURES,
    ]
    assert list(tricho["quality"]) == ["ok", "issues"]


def test_analyze_file_measures_what_intake_stores(tmp_path) -> None:
    rgb, _truth = _trichoscopy()
    path = tmp_path / "scalp.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    from_file = analyze_file(path, view="trichoscopy", px_per_mm=PX_PER_MM)
    stored = prepare_image(path.read_bytes())
    decoded = np.asarray(Image.open(io.BytesIO(stored.stored_bytes)).convert("RGB"))
    from_store = analyze_image(decoded, view="trichoscopy", px_per_mm=PX_PER_MM)
    assert from_file.figures == from_store.figures
    assert from_file.quality == from_store.quality


@pytest.mark.parametrize("orientation", [1, 6])
def test_re_analysing_the_stored_file_gives_the_same_figures(tmp_path, orientation: int) -> None:
    rgb, _truth = _trichoscopy()
    exif = Image.Exif()
    exif[0x0112] = orientation
    upload = tmp_path / "upload.jpg"
    Image.fromarray(rgb).save(upload, quality=90, exif=exif.tobytes())
    stored = tmp_path / "stored.jpg"
    stored.write_bytes(prepare_image(upload.read_bytes()).stored_bytes)
    first = analyze_file(upload, view="trichoscopy", px_per_mm=PX_PER_MM)
    again = analyze_file(stored, view="trichoscopy", px_per_mm=PX_PER_MM)
    assert again.figures == first.figures
    assert again.widths_um == first.widths_um
    assert again.quality == first.quality


def test_bad_arguments_are_refused() -> None:
    rgb, _truth = _trichoscopy()
    for view in ("trichoscopy", "global"):
        with pytest.raises(ValueError, match="outside the 960×720 photo"):
            analyze_image(rgb, view=view, roi=RectRoi(2000, 0, 10, 10))
    with pytest.raises(ValueError, match="view"):
        analyze_image(rgb, view="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint8"):
        analyze_image(rgb.astype(np.float32), view="trichoscopy")
    with pytest.raises(ValueError, match="positive"):
        analyze_image(rgb, view="trichoscopy", px_per_mm=-1.0)


@pytest.mark.parametrize(
    ("density_per_cm2", "lengths_mm", "codes"),
    [
        (300.0, (0.4, 1.2), []),
        (150.0, (1.5, 3.0), ["hairs_too_long"]),
        (300.0, (1.5, 3.0), ["hairs_too_long", "hairs_overlap"]),
    ],
)
def test_hairs_too_long_or_heaped_to_count_are_flagged(density_per_cm2, lengths_mm, codes):
    # Hairs of the benchmark's 0.4-1.2 mm read 143 for 142 here. Hairs 1.5-3 mm long break
    # into pieces where they cross: 75 for 60 at 150 /cm²; at 300 /cm² they also lie in
    # heaps with 0.091 of the photo hair no trace accounts for, beyond the 0.07 the count's
    # estimate of hidden hairs was fitted on, and read 192 for 132.
    scene = make_trichoscopy_scene(
        seed=5, density_per_cm2=density_per_cm2, field_mm=(9.0, 7.0), lengths_mm=lengths_mm
    )
    rgb, _truth = render_trichoscopy(scene, px_per_mm=80.0, size_px=(640, 480))
    measurement = analyze_image(rgb, view="trichoscopy", px_per_mm=80.0, overlay=False)
    assert [issue.code for issue in measurement.quality.issues] == codes
    assert measurement.figures["hair_count"] is not None  # flagged, still measured
