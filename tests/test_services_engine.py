"""Photos added through the services are measured by the real engine, and reproducibly."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from models import HairCondition, PhotoView
from tests.conftest import ClinicStaff
from tracker.analysis import ALGORITHM_VERSION, analyze_image
from tracker.imaging.intake import prepare_image
from tracker.phantoms import make_trichoscopy_scene, render_trichoscopy
from tracker.services import patients, photos, visits
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput

PX_PER_MM = 80.0


# The database side of adding photos runs on both backends elsewhere; the engine is slow
# enough on a shared machine that this check runs once.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_add_photo_stores_the_engines_figures(clinic: ClinicStaff) -> None:
    scene = make_trichoscopy_scene(seed=3, density_per_cm2=180.0)
    rgb, truth = render_trichoscopy(scene, px_per_mm=PX_PER_MM, size_px=(640, 640))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    patient = patients.register_patient(
        clinic.clinician,
        PatientInput(
            "P1", "Name", "female", HairCondition.ANDROGENETIC_ALOPECIA, consent_photography=True
        ),
    )
    course = visits.start_course(clinic.clinician, patient.id, CourseInput(4, 7, date(2026, 1, 5)))
    visit = visits.record_visit(clinic.clinician, course.id, VisitInput(0, date(2026, 1, 5)))

    (result,) = photos.add_photos(
        clinic.clinician,
        visit.id,
        [PhotoUpload(buffer.getvalue(), PhotoView.TRICHOSCOPY, "vertex", px_per_mm=PX_PER_MM)],
    )

    assert result.status == "added" and result.photo is not None
    (measurement,) = result.photo.measurements
    assert measurement.algorithm_version == ALGORITHM_VERSION
    expected = analyze_image(
        prepare_image(buffer.getvalue()).rgb, view="trichoscopy", px_per_mm=PX_PER_MM
    )
    assert measurement.figures == expected.figures
    assert measurement.widths_um == expected.widths_um
    # A plausibility check only; the engine's accuracy is measured by its own tests.
    assert 0.5 * truth.hair_count <= measurement.figures["hair_count"] <= 1.5 * truth.hair_count
    assert result.photo.quality_ok == expected.quality.ok
    # Re-analysis by the same engine version finds the stored result and adds nothing.
    assert photos.reanalyse_photo(clinic.clinician, result.photo.id).id == measurement.id
