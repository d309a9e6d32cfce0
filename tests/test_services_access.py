"""Who may see what: each rule tested both ways, and every refusal audited."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from db import read_session, write_session
from models import AuditAction, AuditEvent, CourseStatus, HairCondition, PhotoView, Role, User
from tests.conftest import TEST_PASSWORD, ClinicStaff, make_clinic, scalp_png
from tracker.services import audit, clinics, patients, photos, progress, users, visits
from tracker.services.access import AccessDenied, AccountInactive, Actor
from tracker.services.auth import authenticate
from tracker.services.errors import InvalidInput
from tracker.services.records import CourseInput, PatientInput, PhotoUpload, VisitInput


def _patient(staff: ClinicStaff, code: str) -> int:
    return patients.register_patient(
        staff.clinician,
        PatientInput(
            code=code,
            name=f"Name {code}",
            sex="female",
            condition=HairCondition.TELOGEN_EFFLUVIUM,
            consent_photography=True,
        ),
    ).id


def _patient_account(staff: ClinicStaff, patient_id: int, email: str) -> Actor:
    users.create_user(
        staff.admin, role=Role.PATIENT, email=email, password=TEST_PASSWORD, patient_id=patient_id
    )
    return authenticate(email, TEST_PASSWORD)


def _denials() -> list[AuditEvent]:
    with read_session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.DENIED))
        )


@pytest.fixture
def two_clinics(clinic: ClinicStaff) -> tuple[ClinicStaff, ClinicStaff]:
    return clinic, make_clinic("Clinic B")


def test_patient_account_sees_its_own_record_and_no_other(clinic: ClinicStaff) -> None:
    own, other = _patient(clinic, "P001"), _patient(clinic, "P002")
    account = _patient_account(clinic, own, "p1@mail.test")
    assert account.role is Role.PATIENT and account.patient_id == own

    assert patients.own_patient_file(account).patient.id == own
    assert patients.get_patient(account, own).code == "P001"
    with pytest.raises(AccessDenied, match="only view its own record"):
        patients.patient_file(account, other)
    with pytest.raises(AccessDenied):
        patients.get_patient(account, other)

    assert [(event.actor_user_id, event.patient_id) for event in _denials()] == [
        (account.user_id, other),
        (account.user_id, other),
    ]


def test_patient_account_cannot_use_staff_functions(clinic: ClinicStaff) -> None:
    own = _patient(clinic, "P001")
    account = _patient_account(clinic, own, "p1@mail.test")
    with pytest.raises(AccessDenied):
        patients.list_patients(account)
    with pytest.raises(AccessDenied):
        visits.start_course(account, own, CourseInput(4, 7, date(2026, 1, 1)))
    course = visits.start_course(clinic.clinician, own, CourseInput(4, 7, date(2026, 1, 1)))
    with pytest.raises(AccessDenied):
        visits.set_course_status(account, course.id, CourseStatus.STOPPED)
    with pytest.raises(AccessDenied):
        progress.clinic_cohort(account)
    with pytest.raises(AccessDenied):
        progress.clinic_summary(account)
    assert len(_denials()) == 5


def test_clinician_sees_own_clinic_and_not_the_other(
    two_clinics: tuple[ClinicStaff, ClinicStaff],
) -> None:
    clinic_a, clinic_b = two_clinics
    patient_a, patient_b = _patient(clinic_a, "P001"), _patient(clinic_b, "P001")

    assert patients.patient_file(clinic_a.clinician, patient_a).patient.id == patient_a
    assert [s.patient.id for s in patients.list_patients(clinic_a.clinician)] == [patient_a]
    with pytest.raises(AccessDenied, match="another clinic"):
        patients.patient_file(clinic_a.clinician, patient_b)
    with pytest.raises(AccessDenied):
        visits.start_course(clinic_a.clinician, patient_b, CourseInput(4, 7, date(2026, 1, 1)))
    course_b = visits.start_course(
        clinic_b.clinician, patient_b, CourseInput(4, 7, date(2026, 1, 1))
    )
    with pytest.raises(AccessDenied):
        visits.set_course_status(clinic_a.clinician, course_b.id, CourseStatus.COMPLETED)
    with pytest.raises(AccessDenied):
        patients.delete_patient(clinic_a.admin, patient_b)
    assert patients.get_patient(clinic_b.clinician, patient_b).id == patient_b
    assert {(event.actor_user_id, event.patient_id) for event in _denials()} == {
        (clinic_a.clinician.user_id, patient_b),
        (clinic_a.admin.user_id, patient_b),
    }


def test_photos_of_another_clinic_are_refused(
    two_clinics: tuple[ClinicStaff, ClinicStaff], quick_measure: None
) -> None:
    clinic_a, clinic_b = two_clinics
    patient_b = _patient(clinic_b, "P001")
    course = visits.start_course(clinic_b.clinician, patient_b, CourseInput(4, 7, date(2026, 1, 1)))
    visit = visits.record_visit(clinic_b.clinician, course.id, VisitInput(0, date(2026, 1, 1)))
    upload = PhotoUpload(scalp_png(1), PhotoView.TRICHOSCOPY, "vertex", "a.png")
    with pytest.raises(AccessDenied):
        photos.add_photos(clinic_a.clinician, visit.id, [upload])
    (added,) = photos.add_photos(clinic_b.clinician, visit.id, [upload])
    assert added.photo is not None
    with pytest.raises(AccessDenied):
        photos.photo_file(clinic_a.clinician, added.photo.id)
    with pytest.raises(AccessDenied):
        photos.photo_on_baseline(clinic_a.clinician, added.photo.id, long_side_px=100)
    with pytest.raises(AccessDenied):
        visits.record_visit(clinic_a.clinician, course.id, VisitInput(1, date(2026, 1, 8)))
    assert photos.photo_file(clinic_b.clinician, added.photo.id)[1] == "png"


def test_only_admins_manage_accounts_and_read_the_audit_trail(clinic: ClinicStaff) -> None:
    with pytest.raises(AccessDenied):
        users.create_user(
            clinic.clinician, role=Role.CLINICIAN, email="new@a.test", password=TEST_PASSWORD
        )
    with pytest.raises(AccessDenied):
        patients.delete_patient(clinic.clinician, _patient(clinic, "P001"))
    with pytest.raises(AccessDenied):
        audit.list_audit_events(clinic.clinician)
    created = users.create_user(
        clinic.admin, role=Role.CLINICIAN, email="New@A.test", password=TEST_PASSWORD
    )
    assert created.email == "new@a.test"
    trail = audit.list_audit_events(clinic.admin)
    assert sum(event.action == "denied" for event in trail) == 3
    assert any(event.action == "create" and event.entity == "user" for event in trail)


def test_admin_cannot_manage_accounts_of_another_clinic(
    two_clinics: tuple[ClinicStaff, ClinicStaff],
) -> None:
    clinic_a, clinic_b = two_clinics
    assert clinic_b.clinician.user_id is not None
    with pytest.raises(AccessDenied):
        users.deactivate_user(clinic_a.admin, clinic_b.clinician.user_id)
    with pytest.raises(AccessDenied):
        users.reset_password(clinic_a.admin, clinic_b.clinician.user_id, "another password 1")
    assert users.deactivate_user(clinic_b.admin, clinic_b.clinician.user_id).is_active is False


def test_views_are_audited(clinic: ClinicStaff) -> None:
    patient_id = _patient(clinic, "P001")
    patients.patient_file(clinic.clinician, patient_id)
    with read_session() as session:
        viewed = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == AuditAction.VIEW, AuditEvent.entity == "patient_file"
            )
        ).one()
    assert (viewed.actor_user_id, viewed.patient_id) == (clinic.clinician.user_id, patient_id)


def test_patient_may_withdraw_consent_but_not_give_it(clinic: ClinicStaff) -> None:
    own = _patient(clinic, "P001")
    account = _patient_account(clinic, own, "p1@mail.test")
    withdrawn = patients.update_consent(account, own, photography=False, outcome_statistics=True)
    assert (withdrawn.consent_photography, withdrawn.consent_outcome_statistics) == (False, False)
    given = patients.update_consent(
        clinic.clinician, own, photography=True, outcome_statistics=True
    )
    assert (given.consent_photography, given.consent_outcome_statistics) == (True, True)
    assert progress.clinic_cohort(clinic.admin).cohort.consenting_patients == 1
    patients.update_consent(account, own, photography=True, outcome_statistics=False)
    cohort = progress.clinic_cohort(clinic.admin).cohort
    assert (cohort.consenting_patients, cohort.excluded_without_consent) == (0, 1)


def test_only_admins_set_the_clinics_details(clinic: ClinicStaff) -> None:
    with pytest.raises(AccessDenied):
        clinics.update_clinic(
            clinic.clinician, advertised_success_rate_pct=90.0, dermatoscope_px_per_mm=None
        )
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        clinics.update_clinic(
            clinic.admin, advertised_success_rate_pct=120.0, dermatoscope_px_per_mm=None
        )
    with pytest.raises(InvalidInput, match=r"0\.08 is not a plausible setting"):
        clinics.update_clinic(
            clinic.admin, advertised_success_rate_pct=90.0, dermatoscope_px_per_mm=0.08
        )
    assert clinics.get_clinic(clinic.clinician).advertised_success_rate_pct is None, (
        "a refused change saves neither"
    )
    saved = clinics.update_clinic(
        clinic.admin, advertised_success_rate_pct=90.0, dermatoscope_px_per_mm=64.0
    )
    assert (saved.advertised_success_rate_pct, saved.dermatoscope_px_per_mm) == (90.0, 64.0)
    seen = clinics.get_clinic(clinic.clinician)
    assert (seen.advertised_success_rate_pct, seen.dermatoscope_px_per_mm) == (90.0, 64.0)


def test_a_deactivated_account_is_refused_on_its_next_call(clinic: ClinicStaff) -> None:
    patient_id = _patient(clinic, "P001")
    assert patients.patient_file(clinic.clinician, patient_id).patient.id == patient_id
    assert clinic.clinician.user_id is not None
    users.deactivate_user(clinic.admin, clinic.clinician.user_id)

    # Through a role check, through a patient loader, and for a change.
    with pytest.raises(AccountInactive, match="deactivated"):
        patients.list_patients(clinic.clinician)
    with pytest.raises(AccountInactive, match="deactivated"):
        patients.patient_file(clinic.clinician, patient_id)
    with pytest.raises(AccountInactive):
        visits.start_course(clinic.clinician, patient_id, CourseInput(4, 7, date(2026, 1, 1)))
    assert visits.list_courses(clinic.admin, patient_id) == []
    assert [(event.actor_user_id, event.entity) for event in _denials()] == [
        (clinic.clinician.user_id, "user")
    ] * 3


def test_a_deactivated_patient_account_no_longer_sees_its_record(clinic: ClinicStaff) -> None:
    own = _patient(clinic, "P001")
    account = _patient_account(clinic, own, "p1@mail.test")
    assert account.user_id is not None
    users.deactivate_user(clinic.admin, account.user_id)
    with pytest.raises(AccountInactive):
        patients.own_patient_file(account)
    with pytest.raises(AccountInactive):
        patients.get_patient(account, own)


def test_an_actor_whose_account_changed_since_sign_in_is_refused(clinic: ClinicStaff) -> None:
    with write_session() as session:
        session.execute(
            update(User).where(User.id == clinic.clinician.user_id).values(role=Role.ADMIN)
        )
    with pytest.raises(AccountInactive, match="changed since you signed in"):
        patients.list_patients(clinic.clinician)
    promoted = authenticate(clinic.clinician.email, TEST_PASSWORD)
    assert promoted.role is Role.ADMIN
    assert patients.list_patients(promoted) == []


def test_the_operator_has_no_account_to_check(clinic: ClinicStaff) -> None:
    assert patients.list_patients(clinic.operator) == []
    assert _denials() == []


def test_a_deactivated_account_cannot_reset_its_own_password(clinic: ClinicStaff) -> None:
    assert clinic.clinician.user_id is not None
    users.reset_password(clinic.clinician, clinic.clinician.user_id, "my own new password")
    users.deactivate_user(clinic.admin, clinic.clinician.user_id)
    with pytest.raises(AccountInactive):
        users.reset_password(clinic.clinician, clinic.clinician.user_id, "and another one!")
