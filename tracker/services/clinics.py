"""Clinics: created by the operator, described by their admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db import read_session, write_session
from models import AuditAction, Clinic, Role
from tracker.imaging.calibration import implausible_px_per_mm
from tracker.services.access import (
    Actor,
    reading_session,
    record_audit,
    require_active_account,
    require_role,
    writing_session,
)
from tracker.services.convert import clinic_record
from tracker.services.errors import InvalidInput, NotFound
from tracker.services.records import ClinicRecord


def ensure_clinic(name: str) -> ClinicRecord:
    """The clinic called ``name``, created if missing (for the operator's CLI and demo)."""
    name = name.strip()
    if not name:
        raise InvalidInput("A clinic needs a name.")
    for _attempt in range(2):
        try:
            with write_session() as session:
                clinic = session.scalar(select(Clinic).where(Clinic.name == name))
                if clinic is None:
                    clinic = Clinic(name=name)
                    session.add(clinic)
                    session.flush()
                return clinic_record(clinic)
        except IntegrityError:
            continue  # created concurrently by another process; read it on the next pass
    raise RuntimeError(f"could not create or find clinic {name!r}")


def find_clinic(name: str) -> ClinicRecord:
    with reading_session() as session:
        clinic = session.scalar(select(Clinic).where(Clinic.name == name.strip()))
        if clinic is None:
            raise NotFound(f"There is no clinic called {name!r}.")
        return clinic_record(clinic)


def get_clinic(actor: Actor) -> ClinicRecord:
    with reading_session() as session:
        require_active_account(actor, session)
        clinic = session.get(Clinic, actor.clinic_id)
        if clinic is None:
            raise NotFound("Your clinic no longer exists.")
        return clinic_record(clinic)


def update_clinic(
    actor: Actor, *, advertised_success_rate_pct: float | None, dermatoscope_px_per_mm: float | None
) -> ClinicRecord:
    """Set the clinic's details (admins): the success rate it advertises, to set against
    measured outcomes, and its dermatoscope profile; None clears one. Both or neither."""
    require_role(actor, Role.ADMIN, doing="change the clinic's details")
    percent, px_per_mm = advertised_success_rate_pct, dermatoscope_px_per_mm
    if percent is not None and not 0 <= percent <= 100:
        raise InvalidInput("A success rate is a percentage between 0 and 100.")
    if px_per_mm is not None and (problem := implausible_px_per_mm(px_per_mm)):
        raise InvalidInput(problem)
    with writing_session() as session:
        clinic = session.get(Clinic, actor.clinic_id)
        if clinic is None:
            raise NotFound("Your clinic no longer exists.")
        clinic.advertised_success_rate_pct = percent
        clinic.dermatoscope_px_per_mm = px_per_mm
        record_audit(
            session,
            actor,
            AuditAction.CHANGE,
            "clinic",
            clinic.id,
            detail=f"advertised {percent}, dermatoscope {px_per_mm} px/mm",
        )
        return clinic_record(clinic)


def list_clinics() -> list[ClinicRecord]:
    """Every clinic on this server (for the operator's CLI)."""
    with read_session() as session:
        return [clinic_record(c) for c in session.scalars(select(Clinic).order_by(Clinic.name))]


def clinic_named_or_only(name: str | None) -> ClinicRecord:
    """The clinic called ``name``, or without a name the only clinic on this server (for the
    operator's CLI, where a server usually holds one clinic)."""
    if name:
        return find_clinic(name)
    existing = list_clinics()
    if len(existing) != 1:
        names = ", ".join(clinic.name for clinic in existing) or "none yet"
        raise InvalidInput(f"Name the clinic with --clinic (clinics: {names}).")
    return existing[0]
