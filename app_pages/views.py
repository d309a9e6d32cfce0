"""Pieces several pages show: verdicts, progress charts with their noise band, photo pairs,
the treatment course's fields and the choice of a patient's course.

Not a page. Everything shown here was fetched through the services by the calling page or
is fetched here through them with the same actor, so access is checked as usual.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from tracker.progress import (
    MEASURES,
    REANALYSE_COMMAND,
    MeasureProgress,
    SiteProgress,
    format_value,
)
from tracker.reports.records import VisitSummary
from tracker.services import photos, progress
from tracker.services.access import Actor
from tracker.services.progress import CountedPhoto, PatientProgress
from tracker.services.records import CourseInput, MeasurementRecord, PhotoRecord

VERDICT_BADGES: dict[str, tuple[str, str]] = {
    "improving": ("Improving", "green"),
    "worsening": ("Worsening", "red"),
    "no measurable change": ("No measurable change yet", "orange"),
    "insufficient data": ("Not enough data yet", "gray"),
    "not comparable": ("Not comparable: measuring engine changed", "violet"),
}
PLAIN_VERDICTS: dict[str, str] = {
    "improving": "has measurably improved since your first session",
    "worsening": "has measurably decreased since your first session",
    "no measurable change": (
        "has not changed by more than the measurement can detect yet; "
        "small changes early in a course are normal and may still be under way"
    ),
    "insufficient data": "cannot be judged yet: a comparison needs your baseline and a later visit",
    "not comparable": (
        "cannot be compared yet: some of your visits were measured by an older version of "
        "the measuring software, and the clinic needs to re-measure them first"
    ),
}
# Verdicts that carry no measured change to quote.
UNJUDGED = ("insufficient data", "not comparable")
# Before/after photos are shown this large at most: a column of a wide page, zoomed in.
BEFORE_AFTER_PX = 1600
COUNTED_PATCH = "Patch counted at every visit"


def verdict_badge(verdict: str) -> None:
    label, colour = VERDICT_BADGES[verdict]
    st.badge(label, color=colour)


def site_title(site: SiteProgress) -> str:
    kind = "Close-up (trichoscopy)" if site.view == "trichoscopy" else "Global photo"
    return f"{kind}: {site.site}"


def progress_chart(progress: MeasureProgress) -> alt.LayerChart:
    """Visit means with the band around the baseline that measurement noise can explain;
    visits measured by another engine version are hollow grey points, not joined or compared."""
    spec = MEASURES[progress.measure]
    axis_title = f"{spec.label} ({spec.unit})" if spec.unit else spec.label
    baseline = progress.baseline
    rows = [
        {
            "session": point.session,
            "value": point.mean,
            "photos": point.n_photos,
            "noise_low": baseline - point.mdc if baseline is not None else None,
            "noise_high": baseline + point.mdc if baseline is not None else None,
        }
        for point in progress.points
    ]
    frame = pd.DataFrame(rows, columns=["session", "value", "photos", "noise_low", "noise_high"])
    x = alt.X("session:Q", title="Session", axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("value:Q", title=axis_title, scale=alt.Scale(zero=False))
    line = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(x=x, y=y, tooltip=["session", alt.Tooltip("value:Q", format=".3g"), "photos"])
    )
    layers: list[alt.Chart] = [line]
    if baseline is not None and not any(math.isnan(point.mdc) for point in progress.points):
        band = (
            alt.Chart(frame)
            .mark_area(opacity=0.2, color="gray")
            .encode(x=x, y="noise_low:Q", y2="noise_high:Q")
        )
        layers.insert(0, band)
    if progress.left_out:
        other = pd.DataFrame(
            {
                "session": point.session,
                "value": point.mean,
                "photos": point.n_photos,
                "engine": point.version,
            }
            for point in progress.left_out
        )
        layers.append(
            alt.Chart(other)
            .mark_point(shape="circle", filled=False, color="gray", size=70)
            .encode(
                x=x,
                y=y,
                tooltip=["session", alt.Tooltip("value:Q", format=".3g"), "photos", "engine"],
            )
        )
    return alt.layer(*layers).properties(height=240)


def site_progress_section(site: SiteProgress) -> None:
    """One view and site: a chart and verdict per measure (for clinic staff)."""
    st.subheader(site_title(site))
    st.caption(region_note(site))
    if site.left_out_versions:
        st.warning(engine_note(site))
    for name, measure in site.measures.items():
        if not measure.measured:
            continue
        spec = MEASURES[name]
        left, right = st.columns([3, 2])
        with left:
            st.altair_chart(progress_chart(measure), width="stretch")
        with right:
            st.markdown(f"**{spec.label}**")
            verdict_badge(measure.verdict)
            st.write(measure.explanation)
            st.caption("Grey band: change from baseline within it is measurement noise (MDC95).")


def region_note(site: SiteProgress) -> str:
    """Which scalp area the figures come from (close-ups are registered to the baseline)."""
    if site.view != "trichoscopy":
        return "Measured on the whole photo."
    if site.registered:
        return (
            "Measured on the same patch of scalp at every visit: each close-up is aligned to "
            "the baseline photo and counted on the baseline's central region."
        )
    return (
        "Measured on whole frames: some photos of this site are not aligned to the baseline "
        "photo yet (re-analyse them to align them)."
    )


def engine_note(site: SiteProgress) -> str:
    """Which photos of a site are left out of its verdicts for their engine version."""
    return (
        f"Judged on the photos measured by the current engine ({site.version}). Photos "
        f"measured by {', '.join(site.left_out_versions)} are left out (hollow grey points "
        "on the charts): a change of engine is not a change of the hair. An administrator "
        f"can re-measure them with `{REANALYSE_COMMAND}`."
    )


def plain_verdict(site: SiteProgress) -> str:
    """The headline verdict of a site in the patient's words, with its uncertainty."""
    headline = site.headline
    spec = MEASURES[headline.measure]
    sentence = f"Your {spec.label.lower()} {PLAIN_VERDICTS[headline.verdict]}."
    latest = headline.latest
    if headline.verdict not in UNJUDGED and latest is not None:
        if latest.change_pct is not None and latest.mdc_pct is not None:
            sentence += (
                f" Measured change: {latest.change_pct:+.1f} % by session {latest.session}; "
                f"changes smaller than ±{latest.mdc_pct:.1f} % cannot be told apart from "
                "measurement noise."
            )
        else:
            sentence += (
                f" Measured: {format_value(latest.mean, spec=spec)} at session {latest.session}."
            )
    return sentence


def photos_by_site(progress: PatientProgress) -> dict[tuple[str, str], list[CountedPhoto]]:
    grouped: dict[tuple[str, str], list[CountedPhoto]] = {}
    for photo in progress.photos:
        record = photo.measurement
        grouped.setdefault((record.view, record.site), []).append(photo)
    return dict(sorted(grouped.items()))


def before_after(actor: Actor, progress: PatientProgress, *, key: str) -> None:
    """Per view and site: the baseline photo beside the photo of a session chosen on a slider."""
    grouped = photos_by_site(progress)
    if not grouped:
        st.info("No measured photos yet.")
        return
    for (view, site), counted in grouped.items():
        first_by_session: dict[int, CountedPhoto] = {}
        for photo in sorted(
            counted, key=lambda p: (p.measurement.session, p.measurement.replicate)
        ):
            first_by_session.setdefault(photo.measurement.session, photo)
        sessions = sorted(first_by_session)
        st.markdown(f"**{'Close-up' if view == 'trichoscopy' else 'Global'}: {site}**")
        if len(sessions) == 1:
            chosen = sessions[0]
        else:
            chosen = st.select_slider(
                "Compare with session",
                options=sessions[1:],
                value=sessions[-1],
                key=f"{key}-{view}-{site}",
            )
        baseline, later = first_by_session[sessions[0]], first_by_session[chosen]
        left, right = st.columns(2)
        before = photos.photo_on_baseline(actor, baseline.photo_id, long_side_px=BEFORE_AFTER_PX)
        left.image(before.jpeg, caption=f"Session {sessions[0]}")
        if chosen != sessions[0]:
            after = photos.photo_on_baseline(actor, later.photo_id, long_side_px=BEFORE_AFTER_PX)
            aligned = ", laid onto the baseline photo" if after.laid_on_baseline else ""
            right.image(after.jpeg, caption=f"Session {chosen}{aligned}")
        if before.reference_box:
            st.caption("The box marks the patch of scalp counted at every visit.")


def photo_bytes(actor: Actor, photo_id: int) -> bytes:
    data, _extension = photos.photo_file(actor, photo_id)
    return data


def visit_table(visits: Sequence[VisitSummary]) -> None:
    if not visits:
        st.info("No visits recorded yet.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "Session": [visit.session for visit in visits],
                "Date": [visit.visit_date for visit in visits],
                "Side effects": [
                    ", ".join(effect.replace("_", " ") for effect in visit.side_effects) or "none"
                    for visit in visits
                ],
            }
        ),
        hide_index=True,
    )


def photo_panel(actor: Actor, photo: PhotoRecord) -> bool:
    """One stored photo: its overlay, figures and quality problems; ``True`` if accepted now."""
    measurement = photo.latest_measurement
    title = f"{photo.original_filename or 'Photo'}: {photo.view.value} {photo.site}"
    with st.container(border=True):
        st.markdown(f"**{title}** (replicate {photo.replicate_index})")
        for issue in photo.quality_issues:
            st.warning(issue.message)
        left, right = st.columns(2)
        left.image(photo_bytes(actor, photo.id), caption="Photo")
        if measurement is not None and measurement.overlay_sha256 is not None:
            right.image(photos.overlay_file(actor, measurement.id), caption="What was detected")
        if measurement is not None:
            st.table(figure_table(measurement), hide_index=True)
            if photo.view.value == "trichoscopy":
                patch = (
                    f" “{COUNTED_PATCH}” is the central patch of the baseline photo found "
                    "again in this one: the charts follow it."
                    if measurement.region_figures is not None
                    else ""
                )
                st.caption(
                    "Each line on the overlay is one hair. The hair count adds an estimate of "
                    "the hairs lying under or merged with others, which no line shows, from "
                    f"the hair the photo shows beyond the lines.{patch}"
                )
        if photo.different_spot:
            st.caption(
                "This photo does not count towards progress: it shows a different spot than "
                "the baseline. Retake it at the baseline's spot and upload it to this visit below."
            )
        elif photo.accepted_despite_flags:
            st.caption("Accepted despite the flags above; it counts towards progress.")
        elif photo.quality_issues:
            st.caption(
                "This photo does not count towards progress until you accept it. "
                "To retake it instead, upload the new photo to this visit below."
            )
            return st.button("Accept this photo anyway", key=f"accept-{photo.id}")
    return False


def figure_table(measurement: MeasurementRecord) -> pd.DataFrame:
    """The measurement's figures over the whole photo and, for a close-up placed on its
    baseline, over the patch counted at every visit (what the charts show)."""

    def shown(value: float | int | None) -> str:
        return "not measurable" if value is None else f"{value:.4g}"

    table = {
        "Figure": [name.replace("_", " ") for name in measurement.figures],
        "Whole photo": [shown(value) for value in measurement.figures.values()],
    }
    region = measurement.region_figures
    if region is not None:
        table[COUNTED_PATCH] = [
            shown(region[name]) if name in region else "" for name in measurement.figures
        ]
    return pd.DataFrame(table)


def course_inputs(*, key: str) -> CourseInput:
    """A treatment course's fields, inside the calling page's form."""
    left, middle, right = st.columns(3)
    planned_sessions = left.number_input("Planned sessions", 1, 40, 10, key=f"{key}-sessions")
    interval_days = middle.number_input("Days between sessions", 1, 180, 7, key=f"{key}-interval")
    start_date = right.date_input("Start date", value=date.today(), key=f"{key}-start")
    product = st.text_input(
        "Product / cocktail", placeholder="e.g. dutasteride 0.01 %", key=f"{key}-product"
    )
    return CourseInput(
        planned_sessions=int(planned_sessions),
        interval_days=int(interval_days),
        start_date=start_date,
        product=product,
    )


def progress_of_chosen_course(
    actor: Actor, patient_id: int
) -> tuple[PatientProgress, DeltaGenerator]:
    """The patient's progress over the current course or, when they have had several, the
    one chosen here; and a slot above the choice for the page's heading."""
    key = f"course-of-patient-{patient_id}"
    # The choice is read before the record is loaded, so only the course shown is loaded
    # (and audited as viewed).
    record = progress.get_patient_progress(actor, patient_id, course_id=st.session_state.get(key))
    heading = st.container()
    if len(record.courses) < 2:
        return record, heading
    courses = {course.id: course for course in record.courses[::-1]}
    st.selectbox(
        "Course",
        list(courses),
        format_func=lambda course_id: (
            f"{courses[course_id].treatment} {courses[course_id].product}, "
            f"started {courses[course_id].start_date} ({courses[course_id].status.value})"
        ),
        key=key,
    )
    return record, heading
