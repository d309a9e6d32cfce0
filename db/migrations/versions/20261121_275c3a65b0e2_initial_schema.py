"""initial schema

Revision ID: 275c3a65b0e2
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '275c3a65b0e2'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('action', sa.Enum('view', 'create', 'change', 'export', 'delete', 'denied', 'login', 'login_failed', name='audit_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('clinic_id', sa.Integer(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_clinic_id_at', ['clinic_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_patient_id_at', ['patient_id', 'at'], unique=False)

    op.create_table('clinics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('advertised_success_rate_pct', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('advertised_success_rate_pct IS NULL OR (advertised_success_rate_pct >= 0 AND advertised_success_rate_pct <= 100)', name=op.f('ck_clinics_success_rate_pct')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinics')),
    sa.UniqueConstraint('name', name=op.f('uq_clinics_name'))
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sex', sa.String(length=16), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('condition', sa.Enum('androgenetic_alopecia', 'alopecia_areata', 'telogen_effluvium', 'other', name='condition', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('stage_scale', sa.Enum('norwood_hamilton', 'ludwig', name='stage_scale', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('consent_photography', sa.Boolean(), nullable=False),
    sa.Column('consent_outcome_statistics', sa.Boolean(), nullable=False),
    sa.Column('contraindication_pregnancy', sa.Boolean(), nullable=False),
    sa.Column('contraindication_diabetes', sa.Boolean(), nullable=False),
    sa.Column('contraindication_cancer', sa.Boolean(), nullable=False),
    sa.Column('contraindication_clotting_disorder', sa.Boolean(), nullable=False),
    sa.Column('contraindication_paralysis_history', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IN ('female', 'male', 'other')", name=op.f('ck_patients_sex')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_patients_clinic_id_clinics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('clinic_id', 'code', name=op.f('uq_patients_clinic_id_code'))
    )
    op.create_table('treatment_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('treatment', sa.String(length=100), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('planned_sessions', sa.Integer(), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'active', 'completed', 'stopped', name='course_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('interval_days > 0', name=op.f('ck_treatment_courses_interval_days')),
    sa.CheckConstraint('planned_sessions > 0', name=op.f('ck_treatment_courses_planned_sessions')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_treatment_courses_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_courses'))
    )
    with op.batch_alter_table('treatment_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_courses_patient_id'), ['patient_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'clinician', 'patient', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'patient' AND patient_id IS NOT NULL) OR (role <> 'patient' AND patient_id IS NULL)", name=op.f('ck_users_patient_account_has_patient')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_users_clinic_id_clinics')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_users_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_users_patient_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('session_number', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('injections_given', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('injections_given IS NULL OR injections_given >= 0', name=op.f('ck_visits_injections')),
    sa.CheckConstraint('session_number >= 0', name=op.f('ck_visits_session_number')),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_visits_clinician_id_users')),
    sa.ForeignKeyConstraint(['course_id'], ['treatment_courses.id'], name=op.f('fk_visits_course_id_treatment_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('course_id', 'session_number', name=op.f('uq_visits_course_id_session_number'))
    )
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('view', sa.Enum('trichoscopy', 'global', name='photo_view', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('site', sa.String(length=100), nullable=False),
    sa.Column('replicate_index', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('extension', sa.String(length=8), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('width_px', sa.Integer(), nullable=False),
    sa.Column('height_px', sa.Integer(), nullable=False),
    sa.Column('px_per_mm', sa.Float(), nullable=True),
    sa.Column('px_per_mm_source', sa.String(length=32), nullable=True),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('quality_ok', sa.Boolean(), nullable=False),
    sa.Column('quality_issues', sa.JSON(), nullable=False),
    sa.Column('accepted_despite_flags', sa.Boolean(), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('replicate_index >= 0', name=op.f('ck_photos_replicate_index')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_photos_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_photos_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('visit_id', 'sha256', name=op.f('uq_photos_visit_id_sha256')),
    sa.UniqueConstraint('visit_id', 'view', 'site', 'replicate_index', name=op.f('uq_photos_visit_id_view_site_replicate_index'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_sha256'), ['sha256'], unique=False)

    op.create_table('side_effects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pain', 'burning', 'itching', 'redness', 'swelling', 'bruising', 'injection_site_bumps', 'rash', 'nausea', 'sensitivity', name='side_effect_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('mild', 'moderate', 'severe', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_side_effects_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_side_effects')),
    sa.UniqueConstraint('visit_id', 'kind', name=op.f('uq_side_effects_visit_id_kind'))
    )
    op.create_table('measurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('algorithm_version', sa.String(length=64), nullable=False),
    sa.Column('px_per_mm', sa.Float(), nullable=True),
    sa.Column('px_per_mm_source', sa.String(length=32), nullable=True),
    sa.Column('vellus_threshold_um', sa.Float(), nullable=False),
    sa.Column('quality_ok', sa.Boolean(), nullable=False),
    sa.Column('quality_issues', sa.JSON(), nullable=False),
    sa.Column('area_cm2', sa.Float(), nullable=True),
    sa.Column('hair_count', sa.Integer(), nullable=True),
    sa.Column('density_per_cm2', sa.Float(), nullable=True),
    sa.Column('terminal_count', sa.Integer(), nullable=True),
    sa.Column('vellus_count', sa.Integer(), nullable=True),
    sa.Column('vellus_fraction', sa.Float(), nullable=True),
    sa.Column('mean_width_um', sa.Float(), nullable=True),
    sa.Column('follicular_units', sa.Integer(), nullable=True),
    sa.Column('hairs_per_unit', sa.Float(), nullable=True),
    sa.Column('coverage_pct', sa.Float(), nullable=True),
    sa.Column('widths_um', sa.JSON(), nullable=False),
    sa.Column('overlay_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_measurements_photo_id_photos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements')),
    sa.UniqueConstraint('photo_id', 'algorithm_version', 'vellus_threshold_um', name=op.f('uq_measurements_photo_id_algorithm_version_vellus_threshold_um'))
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurements_overlay_sha256'), ['overlay_sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurements_overlay_sha256'))

    op.drop_table('measurements')
    op.drop_table('side_effects')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_sha256'))

    op.drop_table('photos')
    op.drop_table('visits')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_clinic_id'))

    op.drop_table('users')
    with op.batch_alter_table('treatment_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_courses_patient_id'))

    op.drop_table('treatment_courses')
    op.drop_table('patients')
    op.drop_table('clinics')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_patient_id_at')
        batch_op.drop_index('ix_audit_events_clinic_id_at')

    op.drop_table('audit_events')
