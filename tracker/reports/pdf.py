"""PDF reports drawn with fpdf2 primitives: one per patient and one clinic outcome summary.

Everything reads in black and white: the noise band is a grey fill with dashed edges, the
baseline a dotted line and the visit means a solid line with filled dots.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from itertools import pairwise

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tracker.outcomes import END_OF_COURSE, CohortOutcome, GroupOutcome, Proportion
from tracker.progress import MEASURES, MeasureProgress, SiteProgress, format_value
from tracker.reports.records import PatientReport

# The core PDF fonts cover Latin-1 only; these are the other characters our text uses.
LATIN1_REPLACEMENTS = {"→": "->", "—": "-", "–": "-", "−": "-", "≥": ">=", "≤": "<="}
CHART_HEIGHT_MM = 45.0
BAND_GREY = 225
LEGEND = (
    "How to read the charts: the solid line with dots is the mean of each visit's photos; "
    "the dotted line is the baseline; the grey band with dashed edges is baseline ± MDC95, "
    "the smallest change the measurement can tell from noise. A dot outside the band is a "
    "measurable change. A hollow circle is a visit measured by another version of the "
    "measuring engine: shown, but left out of the verdict."
)


def latin1(text: str) -> str:
    for character, replacement in LATIN1_REPLACEMENTS.items():
        text = text.replace(character, replacement)
    return text.encode("latin-1", errors="replace").decode("latin-1")


class _Document(FPDF):
    def __init__(self, *, title: str) -> None:
        super().__init__(format="A4", unit="mm")
        self.report_title = latin1(title)
        self.set_title(self.report_title)
        self.set_creator("hair-tracker")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"{self.report_title} - page {self.page_no()}", align="C")

    def heading(self, text: str, *, size: float = 13) -> None:
        self.set_font("Helvetica", style="B", size=size)
        self.multi_cell(0, size * 0.5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def paragraph(self, text: str, *, size: float = 9.5) -> None:
        self.set_font("Helvetica", size=size)
        self.multi_cell(0, size * 0.48, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def rows(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.set_font("Helvetica", size=8.5)
        with self.table(
            first_row_as_headings=True, line_height=4.6, text_align="LEFT", padding=0.8
        ) as table:
            for values in (header, *rows):
                row = table.row()
                for value in values:
                    row.cell(latin1(value))
        self.ln(3)

    def ensure_space(self, height_mm: float) -> None:
        if self.get_y() + height_mm > self.h - self.b_margin:
            self.add_page()


def _pct(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:+.1f} %"


def _band(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"±{value:.1f} %"


def _chart(pdf: _Document, progress: MeasureProgress, *, title: str) -> None:
    """Visit means over sessions with the baseline ± MDC95 band."""
    spec = MEASURES[progress.measure]
    pdf.ensure_space(CHART_HEIGHT_MM + 14)
    pdf.set_font("Helvetica", style="B", size=9.5)
    pdf.cell(0, 5, latin1(f"{title}: {progress.verdict}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left, top = pdf.l_margin + 16, pdf.get_y() + 2
    width, height = pdf.w - pdf.r_margin - left - 4, CHART_HEIGHT_MM
    points = progress.points
    comparable = progress.precision is not None
    values = [p.mean for p in (*points, *progress.left_out)]
    baseline = points[0].mean if points else values[0]
    if comparable:
        values += [baseline + p.mdc for p in points] + [baseline - p.mdc for p in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.12 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    last_session = max(1, *(p.session for p in (*points, *progress.left_out)))

    def to_page(session: float, value: float) -> tuple[float, float]:
        return (
            left + width * (0.03 + 0.94 * session / last_session),
            top + height * (1 - (value - low) / (high - low)),
        )

    if comparable and len(points) > 1:
        upper = [to_page(p.session, baseline + p.mdc) for p in points]
        lower = [to_page(p.session, baseline - p.mdc) for p in reversed(points)]
        pdf.set_fill_color(BAND_GREY)
        pdf.set_draw_color(BAND_GREY)
        pdf.polygon([*upper, *lower], style="F")
        pdf.set_draw_color(90)
        pdf.set_line_width(0.25)
        pdf.set_dash_pattern(dash=1.2, gap=0.9)
        for edge in (upper, lower):
            for start, end in pairwise(edge):
                pdf.line(*start, *end)
        pdf.set_dash_pattern(dash=0.3, gap=0.9)
        pdf.line(*to_page(0, baseline), *to_page(last_session, baseline))
        pdf.set_dash_pattern()
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, width, height)
    pdf.set_font("Helvetica", size=7)
    for value in (low + pad, (low + high) / 2, high - pad):
        _, y = to_page(0, value)
        pdf.line(left - 1, y, left, y)
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(15, 4, latin1(format_value(value, spec=spec)), align="R")
    for session in range(last_session + 1):
        x, _ = to_page(session, low)
        pdf.line(x, top + height, x, top + height + 1)
        pdf.set_xy(x - 4, top + height + 1)
        pdf.cell(8, 3.5, str(session), align="C")
    pdf.set_line_width(0.55)
    page_points = [to_page(p.session, p.mean) for p in points]
    for start, end in pairwise(page_points):
        pdf.line(*start, *end)
    pdf.set_fill_color(0)
    for x, y in page_points:
        pdf.circle(x, y, 0.9, style="F")
    pdf.set_line_width(0.3)
    for point in progress.left_out:
        pdf.circle(*to_page(point.session, point.mean), 0.9, style="D")
    pdf.set_line_width(0.2)
    pdf.set_xy(left, top + height + 4.5)
    pdf.cell(width, 3.5, "session", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _measured(site: SiteProgress) -> list[MeasureProgress]:
    """The measures the engine produced for this site (e.g. no widths without calibration)."""
    return [progress for progress in site.measures.values() if progress.measured]


def patient_pdf(report: PatientReport, *, generated_on: date) -> bytes:
    """The patient's progress: verdicts, charts with noise bands, photo pairs, visits."""
    who = report.patient_name or f"patient {report.patient_code}"
    pdf = _Document(title=f"Hair progress report - {who}")
    pdf.add_page()
    pdf.heading(pdf.report_title, size=15)
    pdf.paragraph(
        f"Patient code {report.patient_code}. Condition: {report.condition}. "
        f"Treatment: {report.treatment}, {len(report.visits)} visits recorded of "
        f"{report.planned_sessions} planned sessions. Generated on {generated_on.isoformat()}."
    )
    pdf.heading("Verdicts", size=12)
    rows = []
    for site in report.sites:
        for progress in _measured(site):
            summary = progress.to_json()
            rows.append(
                [
                    f"{site.view}, {site.site}",
                    MEASURES[progress.measure].label,
                    str(len(progress.points)),
                    _pct(summary["change_pct"]),  # type: ignore[arg-type]
                    _band(summary["mdc_pct"]),  # type: ignore[arg-type]
                    progress.verdict,
                ]
            )
    pdf.rows(["View, site", "Measure", "Sessions", "Change", "MDC95", "Verdict"], rows)
    for site in report.sites:
        for progress in _measured(site):
            pdf.paragraph(f"{site.view}, {site.site}: {progress.explanation}", size=8.5)
    pdf.add_page()
    pdf.heading("Progress charts", size=12)
    pdf.paragraph(LEGEND, size=8.5)
    for site in report.sites:
        for progress in _measured(site):
            spec = MEASURES[progress.measure]
            unit = f" ({spec.unit})" if spec.unit else ""
            _chart(pdf, progress, title=f"{spec.label}{unit} - {site.view}, {site.site}")
    if report.photo_pairs:
        pdf.add_page()
        pdf.heading("Before and after", size=12)
        if any(pair.reference_box for pair in report.photo_pairs):
            pdf.paragraph("The box marks the patch of scalp counted at every visit.")
        image_width = (pdf.w - pdf.l_margin - pdf.r_margin - 6) / 2
        for pair in report.photo_pairs:
            pdf.ensure_space(image_width + 14)
            pdf.set_font("Helvetica", style="B", size=9.5)
            pdf.cell(0, 5, latin1(f"{pair.view}, {pair.site}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            top = pdf.get_y() + 1
            captions = (
                (pair.baseline_image, f"Baseline (session {pair.baseline_session})"),
                (
                    pair.latest_image,
                    f"Session {pair.latest_session}"
                    + (", laid onto the baseline photo" if pair.latest_laid_on_baseline else ""),
                ),
            )
            bottom = top
            for column, (image, caption) in enumerate(captions):
                x = pdf.l_margin + column * (image_width + 6)
                placed = pdf.image(io.BytesIO(image), x=x, y=top, w=image_width)
                bottom = max(bottom, top + placed.rendered_height)
                pdf.set_font("Helvetica", size=8.5)
                pdf.set_xy(x, top + placed.rendered_height + 0.5)
                pdf.cell(image_width, 4, latin1(caption), align="C")
            pdf.set_xy(pdf.l_margin, bottom + 7)
    pdf.ensure_space(30)
    pdf.heading("Visits and side effects", size=12)
    pdf.rows(
        ["Session", "Date", "Side effects"],
        [
            [str(v.session), v.visit_date.isoformat(), ", ".join(v.side_effects) or "none"]
            for v in report.visits
        ],
    )
    return bytes(pdf.output())


def _share(proportion: Proportion) -> str:
    if not proportion.total:
        return "no patients yet"
    return (
        f"{proportion.successes}/{proportion.total} = {100 * (proportion.share or 0):.0f} % "
        f"(95 % CI {100 * proportion.low:.0f}-{100 * proportion.high:.0f} %)"
    )


def _not_comparable(patients: int) -> str:
    return f"; {patients} not comparable (engine changed)" if patients else ""


def _group_rows(groups: Sequence[GroupOutcome]) -> list[list[str]]:
    rows = []
    for group in groups:
        for checkpoint in group.checkpoints:
            label = (
                checkpoint.label
                if checkpoint.label == END_OF_COURSE
                else (f"session {checkpoint.label}")
            )
            change = checkpoint.change_pct
            rows.append(
                [
                    group.group,
                    label,
                    _share(checkpoint.improving) + _not_comparable(checkpoint.not_comparable),
                    "-"
                    if change is None
                    else f"{change.median:+.1f} % (IQR {change.q1:+.1f} to {change.q3:+.1f})",
                ]
            )
    return rows


def clinic_pdf(cohort: CohortOutcome, *, clinic_name: str, generated_on: date) -> bytes:
    """What the clinic's patients measurably gained, next to what the clinic advertises."""
    pdf = _Document(title=f"Clinic outcome summary - {clinic_name}")
    pdf.add_page()
    pdf.heading(pdf.report_title, size=15)
    pdf.paragraph(
        f"{cohort.consenting_patients} patients consented to outcome statistics; "
        f"{cohort.excluded_without_consent} did not and are left out. Generated on "
        f"{generated_on.isoformat()}. 'Improving' means the patient's headline measure "
        "(trichoscopy density, else global coverage) changed by more than its MDC95 with "
        "a favourable trend, judged on the sessions up to that point only, on the photos "
        "measured by the current engine. A patient whose baseline or checkpoint session "
        "was measured only by another engine version is 'not comparable': left out of that "
        "share and counted beside it."
    )
    pdf.heading("Advertised against measured", size=12)
    advertised = (
        "not stated"
        if cohort.advertised_success_pct is None
        else f"{cohort.advertised_success_pct:.0f} %"
    )
    pdf.rows(
        ["Advertised success rate", "Measured: improving at end of course"],
        [[advertised, _share(cohort.measured_success)]],
    )
    header = ["Group", "When", "Improving (Wilson 95 % CI)", "Median change (IQR)"]
    pdf.heading("All consenting patients", size=12)
    pdf.rows(header, _group_rows([cohort.overall]))
    pdf.heading("By condition", size=12)
    pdf.rows(header, _group_rows(cohort.by_condition))
    pdf.heading("By treatment", size=12)
    pdf.rows(header, _group_rows(cohort.by_treatment))
    pdf.heading("Side effects per session", size=12)
    pdf.rows(
        ["Session", "Any side effect", "Reported effects"],
        [
            [
                str(rate.session),
                _share(rate.any_effect),
                ", ".join(f"{kind} {count}" for kind, count in rate.counts.items()) or "none",
            ]
            for rate in cohort.side_effects
        ],
    )
    pdf.heading("Adherence", size=12)
    done = cohort.adherence.done_share
    pdf.paragraph(
        f"{cohort.adherence.sessions_done} of {cohort.adherence.sessions_planned} planned "
        f"sessions done ({'-' if done is None else f'{100 * done:.0f} %'}); "
        f"completed the course: {_share(cohort.adherence.completed)}; stopped early: "
        f"{_share(cohort.adherence.stopped_early)}."
    )
    return bytes(pdf.output())
