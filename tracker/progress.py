"""Per-patient progress: series per session, measurement precision (SEM, MDC95) and verdicts.

Pure functions on plain data. The rules and their reasons are in ``docs/verdict-rules.md``;
every constant here is named there.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from tracker.measurement import View

Verdict = Literal[
    "improving", "worsening", "no measurable change", "insufficient data", "not comparable"
]

BASELINE_SESSION = 0
Z_95 = 1.96
# The engine's benchmarked repeatability enters the photo SD as this many degrees of
# freedom of evidence, next to the patient's own replicate photos: a few replicates can
# show an SD near zero by chance, and that would call any wobble a change.
BENCHMARK_PRIOR_DF = 4
# The command that re-measures stored photos with the current engine, named wherever a
# verdict leaves photos out for their engine version.
REANALYSE_COMMAND = "python -m tracker photos reanalyse"
REMEASURE_HINT = (
    f"an administrator can re-measure them with the current engine (`{REANALYSE_COMMAND}`)"
)


@dataclass(frozen=True)
class MeasureSpec:
    """A tracked measure: its figure name, how to say it, and which way is better.

    ``photo_cv`` is the engine's coefficient of variation of one photo within a visit
    (lighting, white balance, blur, hand jitter); ``visit_cv`` the extra variation of a
    whole visit's mean between visits of an unchanged scalp, which every photo of the visit
    shares (re-placement of the dermatoscope, the day's conditions) and replicates cannot
    show. Both are benchmarked by ``benchmarks/verdicts.py --quick`` on unchanged phantoms
    measured on the registered reference region, and rounded up; ``whole_frame_visit_cv``
    is the visit term of a series that is not registered (whole frames, where re-placing
    the dermatoscope also changes the patch of scalp); see docs/verdict-rules.md.
    """

    name: str
    label: str
    unit: str
    higher_is_better: bool
    photo_cv: float
    visit_cv: float
    whole_frame_visit_cv: float

    def for_series(self, *, registered: bool) -> MeasureSpec:
        """The spec a series is judged with: whole frames carry their larger visit term."""
        return self if registered else replace(self, visit_cv=self.whole_frame_visit_cv)


MEASURES: dict[str, MeasureSpec] = {
    spec.name: spec
    for spec in (
        MeasureSpec("density_per_cm2", "Density", "hairs/cm²", True, 0.03, 0.005, 0.02),
        MeasureSpec(
            "terminal_density_per_cm2", "Terminal density", "hairs/cm²", True, 0.035, 0.005, 0.025
        ),
        MeasureSpec("mean_width_um", "Mean shaft width", "µm", True, 0.03, 0.005, 0.005),
        MeasureSpec("vellus_fraction", "Vellus fraction", "", False, 0.115, 0.04, 0.045),
        # Not benchmarked yet (no global phantom series): provisional.
        MeasureSpec("coverage_pct", "Coverage", "%", True, 0.05, 0.0, 0.0),
    )
}
MEASURES_BY_VIEW: dict[View, tuple[str, ...]] = {
    "trichoscopy": (
        "density_per_cm2",
        "terminal_density_per_cm2",
        "mean_width_um",
        "vellus_fraction",
    ),
    "global": ("coverage_pct",),
}
HEADLINE_MEASURE: dict[View, str] = {"trichoscopy": "density_per_cm2", "global": "coverage_pct"}


def photo_measures(figures: Mapping[str, float | int | None]) -> dict[str, float | None]:
    """The tracked measures of one photo from its engine figures (derives terminal density)."""
    measures: dict[str, float | None] = {}
    for name in ("density_per_cm2", "mean_width_um", "vellus_fraction", "coverage_pct"):
        value = figures.get(name)
        measures[name] = None if value is None else float(value)
    terminal_count = figures.get("terminal_count")
    area_cm2 = figures.get("area_cm2")
    measures["terminal_density_per_cm2"] = (
        float(terminal_count) / float(area_cm2) if terminal_count is not None and area_cm2 else None
    )
    return measures


@dataclass(frozen=True)
class Precision:
    """Measurement noise: ``sd`` of one photo within a visit (and the evidence it rests on)
    and ``visit_sd``, the benchmarked between-visit SD that a visit's photos share."""

    sd: float
    benchmark_sd: float
    replicate_sd: float | None
    replicate_df: int
    visit_sd: float = 0.0


@dataclass(frozen=True)
class SessionPoint:
    """One measured session: mean of its replicate photos and change from baseline."""

    session: int
    n_photos: int
    mean: float
    sem: float
    change: float
    change_pct: float | None
    mdc: float
    mdc_pct: float | None


@dataclass(frozen=True)
class LeftOutPoint:
    """Mean of one session's photos measured by an engine version other than the one the
    series is judged on: shown, never compared."""

    session: int
    version: str
    n_photos: int
    mean: float


@dataclass(frozen=True)
class MeasureProgress:
    measure: str
    points: tuple[SessionPoint, ...]
    precision: Precision | None
    trend_per_session: float | None
    verdict: Verdict
    first_improving_session: int | None
    explanation: str
    left_out: tuple[LeftOutPoint, ...] = ()

    @property
    def measured(self) -> bool:
        """Whether any photo of the series has a value, whichever engine measured it."""
        return bool(self.points or self.left_out)

    @property
    def baseline(self) -> float | None:
        return self.points[0].mean if self.points and self.has_baseline else None

    @property
    def has_baseline(self) -> bool:
        return bool(self.points) and self.points[0].session == BASELINE_SESSION

    @property
    def latest(self) -> SessionPoint | None:
        return self.points[-1] if self.points else None

    def to_json(self) -> dict[str, object]:
        """The per-measure object of ``python -m tracker summary --json``."""
        latest = self.latest
        comparable = self.precision is not None and latest is not None
        return {
            "baseline": self.baseline,
            "latest": latest.mean if latest else None,
            "change_pct": latest.change_pct if comparable and latest else None,
            "mdc_pct": latest.mdc_pct if comparable and latest else None,
            "verdict": self.verdict,
            "first_improving_session": self.first_improving_session,
            "left_out_sessions": sorted({point.session for point in self.left_out}),
        }


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def sample_sd(values: Sequence[float]) -> float:
    center = mean(values)
    return math.sqrt(math.fsum((v - center) ** 2 for v in values) / (len(values) - 1))


def photo_precision(
    values_by_session: Mapping[int, Sequence[float]],
    *,
    benchmark_sd: float,
    visit_sd: float = 0.0,
) -> Precision:
    """SD of one photo: the within-visit variance of the patient's replicate photos, pooled
    over visits (weights n − 1), combined with the benchmarked variance weighted as
    ``BENCHMARK_PRIOR_DF`` degrees of freedom. Without replicates it is the benchmark's SD.
    ``visit_sd`` (the benchmarked between-visit SD) is carried along for :func:`standard_error`.
    """
    replicated = [values for values in values_by_session.values() if len(values) >= 2]
    df = sum(len(values) - 1 for values in replicated)
    sum_squares = math.fsum((len(values) - 1) * sample_sd(values) ** 2 for values in replicated)
    variance = (sum_squares + BENCHMARK_PRIOR_DF * benchmark_sd**2) / (df + BENCHMARK_PRIOR_DF)
    return Precision(
        sd=math.sqrt(variance),
        benchmark_sd=benchmark_sd,
        replicate_sd=math.sqrt(sum_squares / df) if df else None,
        replicate_df=df,
        visit_sd=visit_sd,
    )


def standard_error(sd: float, *, n_photos: int, visit_sd: float = 0.0) -> float:
    """SE of a visit's mean of ``n_photos``: the photo noise shrinks with √n, the variation
    the visit's photos share (``visit_sd``) does not."""
    return math.sqrt(sd**2 / n_photos + visit_sd**2)


def mdc95_of_difference(*, sem_a: float, sem_b: float) -> float:
    """Smallest difference between two visit means that is beyond noise at 95 %."""
    return Z_95 * math.sqrt(sem_a**2 + sem_b**2)


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    x_mean, y_mean = mean(xs), mean(ys)
    sxx = math.fsum((x - x_mean) ** 2 for x in xs)
    sxy = math.fsum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


def percent_of(value: float, *, reference: float) -> float | None:
    return None if reference == 0 else 100.0 * value / reference


def measure_progress(
    values_by_session: Mapping[int, Sequence[float | None]],
    *,
    spec: MeasureSpec,
    left_out: Sequence[LeftOutPoint] = (),
) -> MeasureProgress:
    """Series, precision and verdict of one measure for one patient and site.

    ``values_by_session`` maps a session number (0 = baseline) to the values of that
    visit's replicate photos measured by the engine version the series is judged on;
    ``None`` values (not measurable) are ignored. ``left_out`` are the series' photos
    measured by other engine versions: never compared, but when the baseline or the latest
    session has only such photos the verdict is ``not comparable``.
    """
    measured = {
        session: [float(v) for v in values if v is not None]
        for session, values in sorted(values_by_session.items())
    }
    measured = {session: values for session, values in measured.items() if values}
    left_out = tuple(sorted(left_out, key=lambda point: (point.session, point.version)))
    sessions = set(measured) | {point.session for point in left_out}
    if BASELINE_SESSION not in sessions or len(sessions) < 2:
        return _unjudged(measured, spec=spec, left_out=left_out, verdict="insufficient data")
    if BASELINE_SESSION not in measured or max(sessions) not in measured:
        return _unjudged(measured, spec=spec, left_out=left_out, verdict="not comparable")

    baseline_values = measured[BASELINE_SESSION]
    baseline_mean = mean(baseline_values)
    precision = photo_precision(
        measured,
        benchmark_sd=spec.photo_cv * abs(baseline_mean),
        visit_sd=spec.visit_cv * abs(baseline_mean),
    )
    baseline_sem = standard_error(
        precision.sd, n_photos=len(baseline_values), visit_sd=precision.visit_sd
    )
    points = []
    for session, values in measured.items():
        visit_mean = mean(values)
        sem = standard_error(precision.sd, n_photos=len(values), visit_sd=precision.visit_sd)
        change = visit_mean - baseline_mean
        mdc = mdc95_of_difference(sem_a=baseline_sem, sem_b=sem)
        points.append(
            SessionPoint(
                session=session,
                n_photos=len(values),
                mean=visit_mean,
                sem=sem,
                change=change,
                change_pct=percent_of(change, reference=baseline_mean),
                mdc=mdc,
                mdc_pct=percent_of(mdc, reference=baseline_mean),
            )
        )
    slope = least_squares_slope([p.session for p in points], [p.mean for p in points])
    verdict = judge(points[-1], trend_per_session=slope, higher_is_better=spec.higher_is_better)
    first_improving = (
        first_session_staying_better(points, higher_is_better=spec.higher_is_better)
        if verdict == "improving"
        else None
    )
    return MeasureProgress(
        measure=spec.name,
        points=tuple(points),
        precision=precision,
        trend_per_session=slope,
        verdict=verdict,
        first_improving_session=first_improving,
        explanation=explain(
            spec, points=points, precision=precision, verdict=verdict, first=first_improving
        )
        + left_out_note(left_out),
        left_out=left_out,
    )


def beneficial(amount: float, *, higher_is_better: bool) -> float:
    """``amount`` signed so that positive means better for the patient."""
    return amount if higher_is_better else -amount


def judge(latest: SessionPoint, *, trend_per_session: float, higher_is_better: bool) -> Verdict:
    gain = beneficial(latest.change, higher_is_better=higher_is_better)
    trend = beneficial(trend_per_session, higher_is_better=higher_is_better)
    if gain > latest.mdc and trend > 0:
        return "improving"
    if gain < -latest.mdc and trend < 0:
        return "worsening"
    return "no measurable change"


def first_session_staying_better(
    points: Sequence[SessionPoint], *, higher_is_better: bool
) -> int | None:
    """First follow-up session from which every later change stays beyond the MDC."""
    first: int | None = None
    for point in points[1:]:
        if beneficial(point.change, higher_is_better=higher_is_better) > point.mdc:
            first = point.session if first is None else first
        else:
            first = None
    return first


def _unjudged(
    measured: Mapping[int, list[float]],
    *,
    spec: MeasureSpec,
    left_out: tuple[LeftOutPoint, ...],
    verdict: Literal["insufficient data", "not comparable"],
) -> MeasureProgress:
    points = tuple(
        SessionPoint(
            session=session,
            n_photos=len(values),
            mean=mean(values),
            sem=math.nan,
            change=math.nan,
            change_pct=None,
            mdc=math.nan,
            mdc_pct=None,
        )
        for session, values in measured.items()
    )
    sessions = set(measured) | {point.session for point in left_out}
    if verdict == "not comparable":
        which = (
            "the baseline (session 0)"
            if BASELINE_SESSION not in measured
            else f"the latest session ({max(sessions)})"
        )
        reason = (
            f"{which} was measured only by another version of the measuring engine than "
            "the rest, and a change between engine versions is not a change of the hair"
        )
    elif BASELINE_SESSION not in sessions:
        reason = "there is no baseline (session 0) measurement to compare with"
    else:
        reason = "only the baseline is measured; a change needs at least one follow-up"
    return MeasureProgress(
        measure=spec.name,
        points=points,
        precision=None,
        trend_per_session=None,
        verdict=verdict,
        first_improving_session=None,
        explanation=f"{spec.label}: {verdict} — {reason}." + left_out_note(left_out),
        left_out=left_out,
    )


def left_out_note(left_out: Sequence[LeftOutPoint]) -> str:
    """The sentence saying which photos a verdict leaves out for their engine version."""
    if not left_out:
        return ""
    photos = sum(point.n_photos for point in left_out)
    sessions = sorted({point.session for point in left_out})
    versions = ", ".join(sorted({point.version for point in left_out}))
    return (
        f" Left out: {photos} photo{'s' if photos != 1 else ''} of "
        f"session{'s' if len(sessions) != 1 else ''} {', '.join(map(str, sessions))}, "
        f"measured by another version of the measuring engine ({versions}); {REMEASURE_HINT}."
    )


def format_value(value: float, *, spec: MeasureSpec) -> str:
    unit = f" {spec.unit}" if spec.unit and spec.unit != "%" else spec.unit
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 3
    return f"{value:.{digits}f}{unit}"


def explain(
    spec: MeasureSpec,
    *,
    points: Sequence[SessionPoint],
    precision: Precision,
    verdict: Verdict,
    first: int | None,
) -> str:
    """One plain-language line: what changed, by how much, and how sure we are."""
    baseline, latest = points[0], points[-1]
    direction = "rose" if latest.change > 0 else "fell" if latest.change < 0 else "did not change"
    if latest.change_pct is not None and latest.mdc_pct is not None:
        change = f"{latest.change_pct:+.1f} %"
        noise = f"±{latest.mdc_pct:.1f} %"
    else:
        change = f"{latest.change:+.3g}"
        noise = f"±{latest.mdc:.3g}"
    benchmark = (
        f"the engine's benchmarked repeatability (CV {100 * spec.photo_cv:.1f} % per photo, "
        f"{100 * spec.visit_cv:.1f} % between visits)"
    )
    source = (
        benchmark
        if precision.replicate_sd is None
        else f"replicate photos (SD {format_value(precision.replicate_sd, spec=spec)}, "
        f"{precision.replicate_df} degrees of freedom) and {benchmark}"
    )
    head = (
        f"{spec.label} {direction} {change} "
        f"({format_value(baseline.mean, spec=spec)} → {format_value(latest.mean, spec=spec)}) "
        f"from baseline to session {latest.session}; changes within {noise} are noise "
        f"(MDC95 from {source})"
    )
    if verdict == "improving":
        return f"{head}. Improving, beyond noise with a favourable trend since session {first}."
    if verdict == "worsening":
        return f"{head}. Worsening, beyond noise with an unfavourable trend."
    if abs(latest.change) > latest.mdc:
        return f"{head}. The trend over the sessions disagrees, so no measurable change yet."
    return f"{head}. No measurable change yet."


@dataclass(frozen=True)
class PhotoFigures:
    """The engine figures of one accepted photo, with where and when it was taken.

    ``region_figures`` are the same measurement counted on the site baseline's reference
    region (:mod:`tracker.registration`), or None when the photo was not registered.
    ``algorithm_version`` is the engine version that measured it (None: unknown, which is
    never the version a series is judged on).
    """

    session: int
    view: View
    site: str
    figures: Mapping[str, float | int | None]
    region_figures: Mapping[str, float | int | None] | None = None
    algorithm_version: str | None = None


@dataclass(frozen=True)
class Series:
    """The photos of one view and site, split by engine version: ``judged``, measured by
    ``version``, the version the series is judged on; ``others``, measured by any other
    version, left out of every verdict and shown apart."""

    view: View
    site: str
    version: str
    judged: tuple[PhotoFigures, ...]
    others: tuple[PhotoFigures, ...] = ()

    @property
    def registered(self) -> bool:
        """Judged on the reference region (every judged photo registered), else whole frames."""
        return is_registered_series([photo.region_figures for photo in self.judged])

    def spec(self, measure: str) -> MeasureSpec:
        return MEASURES[measure].for_series(registered=self.registered)

    def values(self, names: Sequence[str]) -> dict[str, dict[int, list[float | None]]]:
        """The judged photos' values of each of ``names``, grouped by session."""
        return measures_by_session(self.judged, names=names)

    def left_out(self, names: Sequence[str]) -> dict[str, tuple[LeftOutPoint, ...]]:
        """Per measure, the mean of each session's photos of each other engine version."""
        by_version: dict[str, list[PhotoFigures]] = {}
        for photo in self.others:
            by_version.setdefault(photo.algorithm_version or "unknown", []).append(photo)
        points: dict[str, list[LeftOutPoint]] = {name: [] for name in names}
        for version, photos in sorted(by_version.items()):
            for name, by_session in measures_by_session(photos, names=names).items():
                for session, values in sorted(by_session.items()):
                    measured = [value for value in values if value is not None]
                    if measured:
                        points[name].append(
                            LeftOutPoint(session, version, len(measured), mean(measured))
                        )
        return {name: tuple(found) for name, found in points.items()}

    def has_values(self, measure: str) -> bool:
        """Whether any photo, of whichever engine version, has a value of ``measure``."""
        return any(
            photo_measures(photo.figures)[measure] is not None
            or (
                photo.region_figures is not None
                and photo_measures(photo.region_figures)[measure] is not None
            )
            for photo in (*self.judged, *self.others)
        )

    def progress(self, names: Sequence[str]) -> dict[str, MeasureProgress]:
        """The progress of each of ``names`` (rules in docs/verdict-rules.md)."""
        values, left_out = self.values(names), self.left_out(names)
        return {
            name: measure_progress(values[name], spec=self.spec(name), left_out=left_out[name])
            for name in names
        }

    def progress_at_each_session(
        self, measure: str, *, sessions: Collection[int] | None = None
    ) -> dict[int, MeasureProgress]:
        """The verdict of ``measure`` as it stood at each session (see
        :func:`progress_at_each_session`)."""
        return progress_at_each_session(
            self.values((measure,))[measure],
            spec=self.spec(measure),
            sessions=sessions,
            left_out=self.left_out((measure,))[measure],
        )


def split_series(photos: Sequence[PhotoFigures], *, version: str) -> tuple[Series, ...]:
    """Every (view, site) series of one patient's photos, each judged on ``version``, in
    view and site order."""
    return tuple(
        Series(
            view=view,
            site=site,
            version=version,
            judged=tuple(photo for photo in series if photo.algorithm_version == version),
            others=tuple(photo for photo in series if photo.algorithm_version != version),
        )
        for (view, site), series in group_by_site(photos).items()
    )


def headline_series(series: Sequence[Series]) -> Series | None:
    """The series a patient is judged on in the clinic outcomes: trichoscopy density at the
    first site (by name) with a value, else global coverage; values of any engine version
    count here, so that an engine upgrade never moves a patient to another measure."""
    ordered = sorted(series, key=lambda s: (s.view != "trichoscopy", s.site))
    return next((s for s in ordered if s.has_values(HEADLINE_MEASURE[s.view])), None)


@dataclass(frozen=True)
class SiteProgress:
    """Every tracked measure of one view and site of one patient."""

    view: View
    site: str
    measures: dict[str, MeasureProgress]
    # Measured on the baseline's reference region (every photo registered) or whole frames.
    registered: bool = False
    # The engine version the measures are judged on.
    version: str | None = None

    @property
    def headline(self) -> MeasureProgress:
        return self.measures[HEADLINE_MEASURE[self.view]]

    @property
    def measured_sessions(self) -> int:
        return len(self.headline.points)

    @property
    def left_out_versions(self) -> tuple[str, ...]:
        """The other engine versions whose photos this site's verdicts leave out."""
        return tuple(sorted({p.version for m in self.measures.values() for p in m.left_out}))


def is_registered_series(region_figures: Sequence[object | None]) -> bool:
    """Whether a series is measured on the reference region, from each of its photos'
    region figures (None: not registered). Only when every photo is: region and
    whole-frame figures differ by edge effects, so a mix would turn that into change."""
    return bool(region_figures) and all(region is not None for region in region_figures)


def measures_by_session(
    photos: Sequence[PhotoFigures], *, names: Sequence[str]
) -> dict[str, dict[int, list[float | None]]]:
    """Each of the ``names`` measures of one series' photos, grouped by session (region
    figures when every photo is registered, else whole-frame figures)."""
    registered = is_registered_series([photo.region_figures for photo in photos])
    grouped: dict[str, dict[int, list[float | None]]] = {name: {} for name in names}
    for photo in photos:
        figures = photo.region_figures if registered and photo.region_figures else photo.figures
        measures = photo_measures(figures)
        for name in names:
            grouped[name].setdefault(photo.session, []).append(measures[name])
    return grouped


def group_by_site(photos: Sequence[PhotoFigures]) -> dict[tuple[View, str], list[PhotoFigures]]:
    grouped: dict[tuple[View, str], list[PhotoFigures]] = {}
    for photo in photos:
        grouped.setdefault((photo.view, photo.site), []).append(photo)
    return dict(sorted(grouped.items()))


def progress_of_site(series: Series) -> SiteProgress:
    """Every tracked measure of one series."""
    return SiteProgress(
        view=series.view,
        site=series.site,
        measures=series.progress(MEASURES_BY_VIEW[series.view]),
        registered=series.registered,
        version=series.version,
    )


def site_progress(photos: Sequence[PhotoFigures], *, version: str) -> tuple[SiteProgress, ...]:
    """Progress of every (view, site) series found in one patient's photos, judged on the
    photos measured by engine ``version``."""
    return tuple(progress_of_site(series) for series in split_series(photos, version=version))


def progress_at_each_session(
    values: Mapping[int, Sequence[float | None]],
    *,
    spec: MeasureSpec,
    sessions: Collection[int] | None = None,
    left_out: Sequence[LeftOutPoint] = (),
) -> dict[int, MeasureProgress]:
    """The verdict as it stood at each session (or at those of ``sessions`` that were
    measured), judged on that session and earlier ones; ``left_out`` as in
    :func:`measure_progress`."""
    measured = sorted({*values, *(point.session for point in left_out)})
    return {
        session: measure_progress(
            {earlier: v for earlier, v in values.items() if earlier <= session},
            spec=spec,
            left_out=[point for point in left_out if point.session <= session],
        )
        for session in measured
        if sessions is None or session in sessions
    }
