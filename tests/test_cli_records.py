"""``python -m tracker db|users|import``: migrate, check, accounts, archive import, crashes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from db.migrate import current_revision, head_revision
from models import HairCondition
from tests.conftest import TEST_PASSWORD, make_clinic
from tests.test_import import build_archive
from tracker.cli import main
from tracker.photostore import default_store
from tracker.services import patients, visits
from tracker.services.auth import authenticate
from tracker.services.integrity import ORPHAN_GRACE_SECONDS
from tracker.services.records import CourseInput, PatientInput, VisitInput

REPO = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_db_upgrade_migrates_an_empty_database(
    empty_database_url: str, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run(["db", "upgrade", "--db", empty_database_url], capsys)
    assert status == 0
    assert head_revision() in output
    assert current_revision(empty_database_url) == head_revision()


def test_users_add_reads_the_password_from_stdin(
    records: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEST_PASSWORD + "\n"))
    status, output = run(
        [
            "users",
            "add",
            "--role",
            "admin",
            "--email",
            "Boss@Clinic.test",
            "--clinic",
            "North",
            "--db",
            records,
        ],
        capsys,
    )
    assert status == 0, output
    assert "created admin account boss@clinic.test" in output
    assert authenticate("boss@clinic.test", TEST_PASSWORD).clinic_id > 0


def test_users_add_links_a_patient_account_and_refuses_a_password_argument(
    records: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    quick_measure: None,
) -> None:
    run(
        ["import", str(build_archive(tmp_path / "a")), "--db", records, "--view", "trichoscopy"],
        capsys,
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(TEST_PASSWORD + "\n"))
    status, output = run(
        [
            "users",
            "add",
            "--role",
            "patient",
            "--email",
            "p1@mail.test",
            "--patient",
            "P001",
            "--db",
            records,
        ],
        capsys,
    )
    assert status == 0, output
    assert authenticate("p1@mail.test", TEST_PASSWORD).patient_id is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    status, output = run(
        ["users", "add", "--role", "clinician", "--email", "c@mail.test", "--db", records], capsys
    )
    assert status == 1 and "at least 10 characters" in output
    with pytest.raises(SystemExit):
        main(
            ["users", "add", "--role", "admin", "--email", "x@y.test", "--password", "secret123456"]
        )


@pytest.mark.usefixtures("quick_measure")
def test_import_twice_adds_nothing_the_second_time(
    records: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = str(build_archive(tmp_path / "archive"))
    command = [
        "import",
        archive,
        "--db",
        records,
        "--view",
        "trichoscopy",
        "--px-per-mm",
        "100",
        "--clinic",
        "North",
    ]
    status, first = run(command, capsys)
    assert status == 0
    assert "2 new patients, 3 new visits, 4 photos added" in first
    assert "skipped" in first and "bad.jpg" in first
    status, second = run(command, capsys)
    assert status == 0
    assert "0 new patients, 0 new visits, 0 photos added, 4 already present" in second


@pytest.mark.usefixtures("quick_measure")
def test_db_check_reports_orphans_and_missing_files(
    records: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["import", str(build_archive(tmp_path / "a")), "--db", records, "--view", "global"], capsys)
    assert run(["db", "check", "--db", records], capsys) == (
        0,
        "checked 8 rows and 8 files\nconsistent\n",
    )

    store = default_store()
    orphan = store.put(b"left behind by a crash", "jpg")
    status, output = run(["db", "check", "--db", records], capsys)
    assert status == 1
    assert f"file without row: {orphan.path}" in output

    # Young orphans may belong to uploads about to commit: only old ones are removed.
    assert run(["db", "check", "--db", records, "--remove-orphans"], capsys)[0] == 1
    old = orphan.path.stat().st_mtime - ORPHAN_GRACE_SECONDS - 1
    os.utime(orphan.path, (old, old))
    status, output = run(["db", "check", "--db", records, "--remove-orphans"], capsys)
    assert status == 0 and "removed orphan file" in output

    victim = next(iter(store.files()))
    victim.path.unlink()
    status, output = run(["db", "check", "--db", records], capsys)
    assert status == 1
    assert f"missing {victim.sha256}.{victim.extension}" in output


CRASHING_UPLOAD = textwrap.dedent(
    """
    import os, sys
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    import db
    from models import PhotoView
    from tests.conftest import dark_pixel_measure, scalp_png
    from tracker.services import photos
    from tracker.services.access import Actor
    from tracker.services.records import PhotoUpload

    db.configure(os.environ["DATABASE_URL"])
    photos.measure = dark_pixel_measure
    clinic_id, user_id, visit_id = map(int, sys.argv[1:4])
    clinician = Actor(user_id, "clinician", clinic_id)
    # The process dies after the files are written, as its photo rows are committed.
    event.listen(Session, "before_commit", lambda session: os._exit(17))
    upload = PhotoUpload(scalp_png(77), PhotoView.TRICHOSCOPY, "vertex")
    photos.add_photos(clinician, visit_id, [upload])
    """
)


def test_a_crash_before_commit_leaves_only_orphan_files(
    records: str, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff = make_clinic("Crash Clinic")
    patient = patients.register_patient(
        staff.clinician,
        PatientInput("P1", "Name", "other", HairCondition.OTHER, consent_photography=True),
    )
    course = visits.start_course(staff.clinician, patient.id, CourseInput(4, 7, date(2026, 1, 5)))
    visit = visits.record_visit(staff.clinician, course.id, VisitInput(0, date(2026, 1, 5)))

    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASHING_UPLOAD,
            str(staff.clinic.id),
            str(staff.clinician.user_id),
            str(visit.id),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 17, crashed.stderr

    status, output = run(["db", "check", "--db", records], capsys)
    assert status == 1
    assert "row without file" not in output
    # The photo and its overlay were stored; no row names them.
    assert output.count("file without row") == 2
    assert patients.patient_file(staff.clinician, patient.id).courses[0].visits[0].photos == ()
