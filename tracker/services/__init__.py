"""Use cases: each takes the acting user (:class:`~tracker.services.access.Actor`) first,
owns a short-lived session, checks access and writes the audit trail. They return frozen
records (:mod:`tracker.services.records`), never ORM objects.

- ``auth``: ``authenticate(email, password) -> Actor`` (lock-out after 5 failures, 15 min).
- ``clinics``: ``ensure_clinic(name)`` (operator), ``find_clinic``,
  ``clinic_named_or_only(name)`` (operator), ``get_clinic``, ``update_clinic``.
- ``users``: ``create_user``, ``list_users``, ``reset_password``, ``deactivate_user``.
- ``patients``: ``register_patient``, ``update_consent``, ``list_patients(search=)``,
  ``get_patient``, ``patient_file``, ``own_patient_file``, ``delete_patient``.
- ``visits``: ``start_course``, ``set_course_status``, ``record_visit``.
- ``photos``: ``add_photos`` (measured on add), ``accept_photo``, ``reanalyse_photo``,
  ``photo_file``, ``photo_on_baseline``, ``overlay_file``, ``settings_problem``.
- ``reanalysis``: ``plan_reanalysis`` and ``reanalyse_photos`` (admins; every stale photo of
  the clinic after an engine upgrade, ``photos reanalyse``).
- ``audit``: ``list_audit_events``.
- ``integrity``: ``check_store``, ``remove_orphan_files`` (operator, ``db check``).
- ``progress``: ``get_patient_progress``, ``latest_verdicts(patient_ids)`` (one audit event),
  ``clinic_cohort`` (headline series only) and ``clinic_summary`` (every patient in full).
- ``exports``: CSV, FHIR and PDF exports, built on ``progress``.
"""
