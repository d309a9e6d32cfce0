"""The demo clinic ``make run`` seeds: accounts that log in, measured patients, run once,
the same data from a process pool as from one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import db
from db import read_session
from models import Photo, Role, Visit
from tests.test_app_helpers import sqlite_only
from tracker import demo
from tracker.cli import main
from tracker.services import auth, progress
from tracker.services.convert import figures_of

pytestmark = sqlite_only


def test_the_demo_is_seeded_once_with_working_logins_and_measured_patients(
    records: str, quick_measure: None, capsys: pytest.CaptureFixture[str]
):
    logins = demo.seed_demo_clinic(patient_count=2, sessions=1, replicates=2)
    assert [login.role for login in logins] == [
        Role.ADMIN,
        Role.CLINICIAN,
        Role.PATIENT,
        Role.PATIENT,
    ]
    for login in logins:
        actor = auth.authenticate(login.email, login.password)
        assert actor.role is login.role
        if login.role is Role.PATIENT:
            own = progress.get_patient_progress(actor, actor.patient_id)
            assert own.patient.code == login.who.removeprefix("patient ")
            # Two replicate photos at the baseline, one at the next session.
            points = own.headline_site.headline.points
            assert [(point.session, point.n_photos) for point in points] == [(0, 2), (1, 1)]

    # `make run` seeds on every start with --if-empty: a database with accounts is left alone.
    assert main(["demo", "seed", "--if-empty", "--db", records]) == 0
    assert "was not seeded" in capsys.readouterr().out
    assert main(["demo", "seed", "--db", records]) == 1


def _seeded_content() -> list[tuple[object, ...]]:
    """What the demo seed made, without row ids: visits, and each photo with its figures."""
    with read_session() as session:
        visit_rows = [
            (
                visit.course.patient.code,
                visit.session_number,
                visit.visit_date,
                visit.injections_given,
                sorted((effect.kind, effect.severity) for effect in visit.side_effects),
            )
            for visit in session.scalars(select(Visit))
        ]
        photo_rows = [
            (
                photo.visit.course.patient.code,
                photo.visit.session_number,
                photo.replicate_index,
                photo.sha256,
                photo.quality_ok,
                tuple(sorted(figures_of(photo.measurements[-1]).items())),
            )
            for photo in session.scalars(select(Photo))
        ]
    return sorted(visit_rows, key=repr) + sorted(photo_rows, key=repr)


def test_measuring_on_a_process_pool_seeds_the_same_data(
    records: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The real engine: the pool's processes measure with it, whatever this process patches.
    options = {"patient_count": 2, "sessions": 1, "replicates": 2}
    demo.seed_demo_clinic(workers=1, **options)
    one_process = _seeded_content()
    photo_figures = [dict(row[5]) for row in one_process if len(row) == 6]
    # Two patients: two replicates at the baseline and one at session 1, all measured.
    assert len(photo_figures) == 2 * 3
    assert all(figures["hair_count"] > 0 for figures in photo_figures)

    pooled_url = f"sqlite:///{tmp_path / 'pooled.db'}"
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path / "pooled-data"))
    db.migrate_to_head(pooled_url)
    db.configure(pooled_url)
    demo.seed_demo_clinic(workers=2, **options)
    assert _seeded_content() == one_process
