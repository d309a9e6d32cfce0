"""Clinic outcomes over consenting patients: who measurably improved, by when, at what cost.

Pure functions on plain data; the service layer builds ``PatientCourse`` records from the
database (each checkpoint verdict computed from the sessions up to that checkpoint only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tracker.progress import Z_95, Verdict

MarkedEnd = Literal["completed", "stopped"]

CHECKPOINT_SESSIONS: tuple[int, ...] = (3, 5)
END_OF_COURSE = "end of course"


@dataclass(frozen=True)
class Checkpoint:
    """The headline verdict of one patient judged on the sessions up to ``session``."""

    session: int
    verdict: Verdict
    change_pct: float | None


@dataclass(frozen=True)
class PatientCourse:
    code: str
    condition: str
    treatment: str
    consented: bool
    planned_sessions: int
    sessions_done: int
    checkpoints: Mapping[int, Checkpoint]
    # Session number -> side effects recorded after it; every done session is listed.
    side_effects_by_session: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    # What a clinician marked the course, if anything: completed, or stopped early.
    marked: MarkedEnd | None = None

    @property
    def completed(self) -> bool:
        return self.sessions_done >= self.planned_sessions

    @property
    def over(self) -> bool:
        """Every planned session done, or the course marked completed or stopped: a course
        stopped early ends too, and leaving it out would count only those who stayed."""
        return self.completed or self.marked is not None

    def checkpoint(self, label: int | str) -> Checkpoint | None:
        if label == END_OF_COURSE:
            if not self.over or not self.checkpoints:
                return None
            return self.checkpoints[max(self.checkpoints)]
        return self.checkpoints.get(int(label))


@dataclass(frozen=True)
class Proportion:
    """``successes`` of ``total`` with its 95 % Wilson score interval."""

    successes: int
    total: int
    low: float
    high: float

    @property
    def share(self) -> float | None:
        return self.successes / self.total if self.total else None


def wilson_interval(successes: int, total: int, *, z: float = Z_95) -> Proportion:
    """Wilson score interval: stays inside [0, 1] and is honest for small counts."""
    if total == 0:
        return Proportion(successes=0, total=0, low=0.0, high=1.0)
    p = successes / total
    denominator = 1 + z**2 / total
    center = (p + z**2 / (2 * total)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / total + z**2 / (4 * total**2))
    return Proportion(
        successes=successes, total=total, low=max(0.0, center - half), high=min(1.0, center + half)
    )


@dataclass(frozen=True)
class Spread:
    median: float
    q1: float
    q3: float


def median_iqr(values: Sequence[float]) -> Spread | None:
    if not values:
        return None
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return Spread(median=float(median), q1=float(q1), q3=float(q3))


@dataclass(frozen=True)
class CheckpointOutcome:
    label: str
    improving: Proportion
    change_pct: Spread | None
    # Patients who reached the checkpoint but are left out of it: their baseline or that
    # session was measured only by another engine version (``not comparable``).
    not_comparable: int = 0


@dataclass(frozen=True)
class GroupOutcome:
    group: str
    patients: int
    checkpoints: tuple[CheckpointOutcome, ...]


@dataclass(frozen=True)
class SideEffectRate:
    session: int
    any_effect: Proportion
    counts: dict[str, int]


@dataclass(frozen=True)
class Adherence:
    patients: int
    sessions_done: int
    sessions_planned: int
    completed: Proportion
    # Courses a clinician marked stopped before their planned end.
    stopped_early: Proportion

    @property
    def done_share(self) -> float | None:
        return self.sessions_done / self.sessions_planned if self.sessions_planned else None


@dataclass(frozen=True)
class CohortOutcome:
    consenting_patients: int
    excluded_without_consent: int
    overall: GroupOutcome
    by_condition: tuple[GroupOutcome, ...]
    by_treatment: tuple[GroupOutcome, ...]
    side_effects: tuple[SideEffectRate, ...]
    adherence: Adherence
    advertised_success_pct: float | None
    # The advertised claim is checked against the end-of-course share improving.
    measured_success: Proportion


def checkpoint_labels() -> tuple[str, ...]:
    return (*(str(s) for s in CHECKPOINT_SESSIONS), END_OF_COURSE)


def checkpoint_outcome(courses: Sequence[PatientCourse], *, label: str) -> CheckpointOutcome:
    checked = [c for c in (course.checkpoint(label) for course in courses) if c is not None]
    reached = [c for c in checked if c.verdict != "not comparable"]
    improving = sum(1 for c in reached if c.verdict == "improving")
    changes = [c.change_pct for c in reached if c.change_pct is not None]
    return CheckpointOutcome(
        label=label,
        improving=wilson_interval(improving, len(reached)),
        change_pct=median_iqr(changes),
        not_comparable=len(checked) - len(reached),
    )


def group_outcome(courses: Sequence[PatientCourse], *, group: str) -> GroupOutcome:
    return GroupOutcome(
        group=group,
        patients=len(courses),
        checkpoints=tuple(
            checkpoint_outcome(courses, label=label) for label in checkpoint_labels()
        ),
    )


def split_outcomes(
    courses: Sequence[PatientCourse], *, key: Callable[[PatientCourse], str]
) -> tuple[GroupOutcome, ...]:
    groups: dict[str, list[PatientCourse]] = {}
    for course in courses:
        groups.setdefault(key(course), []).append(course)
    return tuple(group_outcome(members, group=name) for name, members in sorted(groups.items()))


def side_effect_rates(courses: Sequence[PatientCourse]) -> tuple[SideEffectRate, ...]:
    sessions = sorted({s for course in courses for s in course.side_effects_by_session})
    rates = []
    for session in sessions:
        reports = [
            course.side_effects_by_session[session]
            for course in courses
            if session in course.side_effects_by_session
        ]
        counts: dict[str, int] = {}
        for effects in reports:
            for effect in set(effects):
                counts[effect] = counts.get(effect, 0) + 1
        rates.append(
            SideEffectRate(
                session=session,
                any_effect=wilson_interval(sum(1 for e in reports if e), len(reports)),
                counts=dict(sorted(counts.items())),
            )
        )
    return tuple(rates)


def adherence(courses: Sequence[PatientCourse]) -> Adherence:
    return Adherence(
        patients=len(courses),
        sessions_done=sum(min(c.sessions_done, c.planned_sessions) for c in courses),
        sessions_planned=sum(c.planned_sessions for c in courses),
        completed=wilson_interval(sum(1 for c in courses if c.completed), len(courses)),
        stopped_early=wilson_interval(
            sum(1 for c in courses if c.marked == "stopped" and not c.completed), len(courses)
        ),
    )


def cohort_outcome(
    courses: Sequence[PatientCourse], *, advertised_success_pct: float | None
) -> CohortOutcome:
    """Outcomes over the patients who consented to their data being used for the clinic."""
    consenting = [course for course in courses if course.consented]
    overall = group_outcome(consenting, group="all patients")
    return CohortOutcome(
        consenting_patients=len(consenting),
        excluded_without_consent=len(courses) - len(consenting),
        overall=overall,
        by_condition=split_outcomes(consenting, key=lambda c: c.condition),
        by_treatment=split_outcomes(consenting, key=lambda c: c.treatment),
        side_effects=side_effect_rates(consenting),
        adherence=adherence(consenting),
        advertised_success_pct=advertised_success_pct,
        measured_success=overall.checkpoints[-1].improving,
    )


def proportion_json(proportion: Proportion) -> dict[str, object]:
    return {
        "successes": proportion.successes,
        "total": proportion.total,
        "share": proportion.share,
        "ci95": [proportion.low, proportion.high],
    }


def group_json(group: GroupOutcome) -> dict[str, object]:
    return {
        "group": group.group,
        "patients": group.patients,
        "checkpoints": {
            c.label: {
                "improving": proportion_json(c.improving),
                "median_change_pct": c.change_pct.median if c.change_pct else None,
                "change_pct_iqr": [c.change_pct.q1, c.change_pct.q3] if c.change_pct else None,
                "not_comparable": c.not_comparable,
            }
            for c in group.checkpoints
        },
    }


def cohort_json(cohort: CohortOutcome) -> dict[str, object]:
    """The ``cohort`` object of ``python -m tracker summary --json``."""
    return {
        "consenting_patients": cohort.consenting_patients,
        "excluded_without_consent": cohort.excluded_without_consent,
        **group_json(cohort.overall),
        "by_condition": [group_json(g) for g in cohort.by_condition],
        "by_treatment": [group_json(g) for g in cohort.by_treatment],
        "side_effects": [
            {"session": r.session, "any": proportion_json(r.any_effect), "counts": r.counts}
            for r in cohort.side_effects
        ],
        "adherence": {
            "sessions_done": cohort.adherence.sessions_done,
            "sessions_planned": cohort.adherence.sessions_planned,
            "done_share": cohort.adherence.done_share,
            "completed": proportion_json(cohort.adherence.completed),
            "stopped_early": proportion_json(cohort.adherence.stopped_early),
        },
        "advertised_success_pct": cohort.advertised_success_pct,
        "measured_success": proportion_json(cohort.measured_success),
    }
