"""The demo clinic ``make run`` seeds: accounts that log in, measured patients, run once."""

from __future__ import annotations

import pytest

from models import Role
from tests.test_app_helpers import sqlite_only
from tracker import demo
from tracker.cli import main
from tracker.services import auth, progress

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
