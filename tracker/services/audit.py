"""Reading the audit trail (admins of the clinic)."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditAction, AuditEvent, Role
from tracker.services.access import Actor, reading_session, record_audit, require_role
from tracker.services.records import AuditRecord


def list_audit_events(
    actor: Actor, *, patient_id: int | None = None, limit: int = 200
) -> list[AuditRecord]:
    """The clinic's newest audit events, optionally about one patient."""
    require_role(actor, Role.ADMIN, doing="read the audit trail")
    query = (
        select(AuditEvent)
        .where(AuditEvent.clinic_id == actor.clinic_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    with reading_session() as session:
        events = session.scalars(query).all()
        record_audit(session, actor, AuditAction.VIEW, "audit", patient_id=patient_id)
        return [
            AuditRecord(
                id=event.id,
                at=event.at,
                actor_user_id=event.actor_user_id,
                actor_role=event.actor_role,
                action=event.action.value,
                entity=event.entity,
                entity_id=event.entity_id,
                patient_id=event.patient_id,
                detail=event.detail,
            )
            for event in events
        ]
