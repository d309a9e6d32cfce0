from __future__ import annotations

from dataclasses import replace

import pytest

from tracker.outcomes import (
    END_OF_COURSE,
    Checkpoint,
    MarkedEnd,
    PatientCourse,
    cohort_json,
    cohort_outcome,
    median_iqr,
    wilson_interval,
)


def test_wilson_interval_against_hand_value() -> None:
    # 9/10: centre (0.9 + 1.9208/10) / 1.38416 = 0.78898, half-width 0.19314.
    proportion = wilson_interval(9, 10)
    assert proportion.share == pytest.approx(0.9)
    assert proportion.low == pytest.approx(0.59584, abs=1e-5)
    assert proportion.high == pytest.approx(0.98212, abs=1e-5)


def test_wilson_interval_of_zero_successes_starts_at_zero() -> None:
    proportion = wilson_interval(0, 5)
    assert proportion.low == 0.0
    assert proportion.high == pytest.approx(3.8416 / 5 / (1 + 3.8416 / 5))


def test_wilson_interval_of_nobody_is_uninformative() -> None:
    proportion = wilson_interval(0, 0)
    assert (proportion.share, proportion.low, proportion.high) == (None, 0.0, 1.0)


def test_median_and_iqr_interpolate_linearly() -> None:
    spread = median_iqr([1.0, 2.0, 3.0, 4.0, 10.0])
    assert spread is not None
    assert (spread.q1, spread.median, spread.q3) == (2.0, 3.0, 4.0)
    assert median_iqr([]) is None


def course(
    code: str,
    verdicts: dict[int, tuple[str, float]],
    *,
    condition: str = "androgenetic alopecia",
    treatment: str = "dutasteride",
    consented: bool = True,
    planned: int = 5,
    effects: dict[int, tuple[str, ...]] | None = None,
    marked: MarkedEnd | None = None,
) -> PatientCourse:
    return PatientCourse(
        code=code,
        condition=condition,
        treatment=treatment,
        consented=consented,
        planned_sessions=planned,
        sessions_done=max(verdicts),
        checkpoints={s: Checkpoint(s, v, c) for s, (v, c) in verdicts.items()},  # type: ignore[arg-type]
        side_effects_by_session=effects or {},
        marked=marked,
    )


@pytest.fixture
def courses() -> list[PatientCourse]:
    return [
        course(
            "P1",
            {3: ("no measurable change", 4.0), 5: ("improving", 12.0)},
            effects={1: ("pain", "redness"), 2: ()},
        ),
        course(
            "P2",
            {3: ("improving", 9.0), 5: ("improving", 15.0)},
            effects={1: ("pain",), 2: ("bruising",)},
        ),
        course(
            "P3",
            {3: ("no measurable change", 1.0)},
            condition="telogen effluvium",
            treatment="vitamins",
            effects={1: ()},
        ),
        course("P4", {3: ("improving", 30.0), 5: ("improving", 30.0)}, consented=False),
    ]


def test_cohort_counts_only_consenting_patients(courses: list[PatientCourse]) -> None:
    cohort = cohort_outcome(courses, advertised_success_pct=90.0)
    assert cohort.consenting_patients == 3
    assert cohort.excluded_without_consent == 1
    at3, at5, end = cohort.overall.checkpoints
    assert (at3.label, at5.label, end.label) == ("3", "5", END_OF_COURSE)
    assert (at3.improving.successes, at3.improving.total) == (1, 3)
    assert at3.change_pct is not None
    assert at3.change_pct.median == 4.0
    # P3 stopped after session 3 of 5: not at session 5, not at end of course.
    assert (at5.improving.successes, at5.improving.total) == (2, 2)
    assert (end.improving.successes, end.improving.total) == (2, 2)
    assert cohort.measured_success == end.improving
    assert cohort.advertised_success_pct == 90.0


def test_a_course_stopped_early_counts_at_end_of_course_at_its_last_session(
    courses: list[PatientCourse],
) -> None:
    stopped = [*courses[:2], replace(courses[2], marked="stopped"), *courses[3:]]
    cohort = cohort_outcome(stopped, advertised_success_pct=None)
    # P3 stopped after session 3, unchanged there: the share drops from 2 of 2 to 2 of 3.
    end = cohort.overall.checkpoints[-1]
    assert (end.improving.successes, end.improving.total) == (2, 3)
    assert cohort.adherence.completed.successes == 2
    stopped_early = cohort.adherence.stopped_early
    assert (stopped_early.successes, stopped_early.total) == (1, 3)
    marked_done = [replace(courses[0], marked="completed"), *courses[1:]]
    marked_done_cohort = cohort_outcome(marked_done, advertised_success_pct=None)
    assert marked_done_cohort.adherence.stopped_early.successes == 0


def test_cohort_splits_by_condition_and_treatment(courses: list[PatientCourse]) -> None:
    cohort = cohort_outcome(courses, advertised_success_pct=None)
    assert [(g.group, g.patients) for g in cohort.by_condition] == [
        ("androgenetic alopecia", 2),
        ("telogen effluvium", 1),
    ]
    assert [g.group for g in cohort.by_treatment] == ["dutasteride", "vitamins"]
    assert cohort.by_treatment[1].checkpoints[0].improving.total == 1


def test_side_effect_rates_and_adherence(courses: list[PatientCourse]) -> None:
    cohort = cohort_outcome(courses, advertised_success_pct=None)
    session1, session2 = cohort.side_effects
    assert (session1.any_effect.successes, session1.any_effect.total) == (2, 3)
    assert session1.counts == {"pain": 2, "redness": 1}
    assert (session2.any_effect.successes, session2.any_effect.total) == (1, 2)
    assert cohort.adherence.sessions_done == 13  # 5 + 5 + 3
    assert cohort.adherence.sessions_planned == 15
    assert cohort.adherence.completed.successes == 2


def test_cohort_json_shape(courses: list[PatientCourse]) -> None:
    data = cohort_json(cohort_outcome(courses, advertised_success_pct=90.0))
    assert data["consenting_patients"] == 3
    assert data["checkpoints"]["5"]["improving"]["share"] == 1.0  # type: ignore[index]
    assert data["measured_success"]["ci95"][0] == pytest.approx(0.34238, abs=1e-5)  # type: ignore[index]


def test_a_not_comparable_checkpoint_is_left_out_of_the_share_and_counted() -> None:
    cohort = cohort_outcome(
        [
            course("P1", {3: ("improving", 12.0)}),
            course("P2", {3: ("no measurable change", 2.0)}),
            # The baseline was measured by another engine version: no change to count.
            course("P3", {3: ("not comparable", None)}),  # type: ignore[dict-item]
        ],
        advertised_success_pct=None,
    )
    at3 = cohort.overall.checkpoints[0]
    assert (at3.improving.successes, at3.improving.total, at3.not_comparable) == (1, 2, 1)
    assert at3.change_pct is not None and at3.change_pct.median == 7.0
    assert cohort_json(cohort)["checkpoints"]["3"]["not_comparable"] == 1  # type: ignore[index]
