"""Clinic outcomes for administrators: who measurably improved and when, side effects,
adherence, and the audited exports (CSV, PDF, FHIR)."""

import json
from datetime import date

import pandas as pd
import streamlit as st

from app_pages import browser_session
from models import Role
from tracker.outcomes import END_OF_COURSE, GroupOutcome, Proportion
from tracker.progress import REANALYSE_COMMAND
from tracker.services import exports, progress

actor = browser_session.require_page(Role.ADMIN, doing="view clinic outcomes")


def share(proportion: Proportion) -> str:
    if not proportion.total:
        return "no patients yet"
    return (
        f"{proportion.successes} of {proportion.total} ({100 * (proportion.share or 0):.0f} %; "
        f"95 % CI {100 * proportion.low:.0f}–{100 * proportion.high:.0f} %)"
    )


def not_comparable(patients: int) -> str:
    """The patients a checkpoint leaves out because an engine upgrade split their series."""
    return f"; {patients} not comparable (engine changed)" if patients else ""


def checkpoint_title(label: str) -> str:
    return "End of course" if label == END_OF_COURSE else f"By session {label}"


def group_table(groups: tuple[GroupOutcome, ...]) -> pd.DataFrame:
    rows = []
    for group in groups:
        row: dict[str, object] = {"Group": group.group, "Patients": group.patients}
        for checkpoint in group.checkpoints:
            title = checkpoint_title(checkpoint.label)
            row[f"{title}: improving"] = share(checkpoint.improving) + not_comparable(
                checkpoint.not_comparable
            )
            change = checkpoint.change_pct
            row[f"{title}: median change"] = (
                f"{change.median:+.1f} % (IQR {change.q1:+.1f} to {change.q3:+.1f})"
                if change
                else "—"
            )
        rows.append(row)
    return pd.DataFrame(rows)


with st.spinner("Measuring the clinic's outcomes over every patient…"):
    outcomes = progress.clinic_cohort(actor)
cohort = outcomes.cohort
st.title(f"Outcomes — {outcomes.clinic.name}")
st.caption(
    f"{cohort.consenting_patients} patients consented to outcome statistics; "
    f"{cohort.excluded_without_consent} did not and are left out. "
    "Improving means a gain in the headline measure beyond its measurement noise (MDC95)."
)
if any(checkpoint.not_comparable for checkpoint in cohort.overall.checkpoints):
    st.warning(
        "Some patients are not comparable: their baseline or a later visit was measured only "
        "by an older version of the measuring engine, so they are left out of the shares "
        f"below. Re-measure the clinic's photos with `{REANALYSE_COMMAND}`."
    )

columns = st.columns(len(cohort.overall.checkpoints))
for column, checkpoint in zip(columns, cohort.overall.checkpoints, strict=True):
    proportion = checkpoint.improving
    column.metric(
        f"Improving {checkpoint_title(checkpoint.label).lower()}",
        f"{100 * proportion.share:.0f} %" if proportion.share is not None else "—",
        help="Share of patients who reached this point, with its 95 % Wilson interval.",
    )
    column.caption(share(proportion) + not_comparable(checkpoint.not_comparable))
if cohort.advertised_success_pct is not None:
    st.info(
        f"The clinic advertises {cohort.advertised_success_pct:.0f} % success; measured at the end "
        f"of the course: {share(cohort.measured_success)}."
    )

st.subheader("By condition")
st.dataframe(group_table(cohort.by_condition), hide_index=True)
st.subheader("By treatment")
st.dataframe(group_table(cohort.by_treatment), hide_index=True)

st.subheader("Side effects by session")
if cohort.side_effects:
    st.dataframe(
        pd.DataFrame(
            {
                "Session": rate.session,
                "Any side effect": share(rate.any_effect),
                "Reported": ", ".join(
                    f"{kind.replace('_', ' ')} ({count})" for kind, count in rate.counts.items()
                )
                or "none",
            }
            for rate in cohort.side_effects
        ),
        hide_index=True,
    )
else:
    st.info("No treatment sessions recorded yet.")

st.subheader("Adherence")
adherence = cohort.adherence
st.write(
    f"{adherence.sessions_done} of {adherence.sessions_planned} planned sessions done"
    + (f" ({100 * adherence.done_share:.0f} %)" if adherence.done_share is not None else "")
    + f"; courses completed: {share(adherence.completed)}"
    + f"; stopped early: {share(adherence.stopped_early)}."
)

st.subheader("Export")
st.caption("Exports carry patient codes, not names, and are written to the audit trail.")
csv_column, pdf_column, fhir_column = st.columns(3)
if csv_column.button("Prepare CSV"):
    csv_column.download_button(
        "Download outcome CSV",
        exports.export_csv(actor, patient_id=None),
        file_name="clinic-measurements.csv",
        mime="text/csv",
        on_click="ignore",
    )
if pdf_column.button("Prepare PDF"):
    pdf_column.download_button(
        "Download outcome PDF",
        exports.export_clinic_pdf(actor, today=date.today()),
        file_name="clinic-outcomes.pdf",
        mime="application/pdf",
        on_click="ignore",
    )
if fhir_column.button("Prepare FHIR bundle"):
    fhir_column.download_button(
        "Download FHIR bundle (JSON)",
        json.dumps(exports.export_fhir(actor, patient_id=None), indent=2),
        file_name="clinic-measurements.fhir.json",
        mime="application/fhir+json",
        on_click="ignore",
    )
