"""Every verdict rule of docs/verdict-rules.md, each with a hand-computed case."""

from __future__ import annotations

import math

import pytest

from tracker.progress import (
    MEASURES,
    PhotoFigures,
    measure_progress,
    photo_measures,
    pooled_within_visit_sd,
    progress_at_each_session,
    site_progress,
)

DENSITY = MEASURES["density_per_cm2"]
VELLUS = MEASURES["vellus_fraction"]
# Three replicates with SD 2 around each mean: pooled SD 2, SEM 2/√3,
# MDC95 = 1.96·√(4/3 + 4/3) = 3.2007.
SPREAD = (0.0, 2.0, -2.0)
MDC_THREE_REPLICATES = 1.96 * math.sqrt(8 / 3)


def replicated(*means: float) -> dict[int, list[float]]:
    return {session: [m + d for d in SPREAD] for session, m in enumerate(means)}


def test_pooled_sd_weights_each_visit_by_its_degrees_of_freedom() -> None:
    # var [10, 12] = 2 (df 1); var [20, 23, 26] = 9 (df 2); pooled = (2 + 18) / 3.
    precision = pooled_within_visit_sd({0: [10.0, 12.0], 1: [20.0, 23.0, 26.0]})
    assert precision is not None
    assert precision.source == "replicates"
    assert precision.degrees_of_freedom == 3
    assert precision.sd == pytest.approx(math.sqrt(20 / 3))


def test_improving_when_change_exceeds_mdc_and_trend_is_up() -> None:
    progress = measure_progress(replicated(100, 110, 120), spec=DENSITY)
    assert progress.precision is not None
    assert progress.precision.sd == pytest.approx(2.0)
    latest = progress.points[-1]
    assert latest.sem == pytest.approx(2 / math.sqrt(3))
    assert latest.mdc == pytest.approx(MDC_THREE_REPLICATES)
    assert latest.change == pytest.approx(20.0)
    assert latest.change_pct == pytest.approx(20.0)
    assert latest.mdc_pct == pytest.approx(MDC_THREE_REPLICATES)  # baseline is 100
    assert progress.trend_per_session == pytest.approx(10.0)
    assert progress.verdict == "improving"
    assert progress.first_improving_session == 1


def test_worsening_is_the_mirror_of_improving() -> None:
    progress = measure_progress(replicated(100, 95, 90), spec=DENSITY)
    assert progress.verdict == "worsening"
    assert progress.first_improving_session is None


def test_change_within_mdc_is_no_measurable_change() -> None:
    # change 3 < MDC 3.2007 even though the trend is up.
    progress = measure_progress(replicated(100, 101, 103), spec=DENSITY)
    assert progress.points[-1].change == pytest.approx(3.0)
    assert progress.verdict == "no measurable change"
    assert "No measurable change yet" in progress.explanation


def test_change_beyond_mdc_against_the_trend_is_no_measurable_change() -> None:
    # means 100, 140, 96, 106: slope = −13 / 5 = −2.6, latest change +6 > MDC.
    progress = measure_progress(replicated(100, 140, 96, 106), spec=DENSITY)
    assert progress.trend_per_session == pytest.approx(-2.6)
    assert progress.points[-1].change > progress.points[-1].mdc
    assert progress.verdict == "no measurable change"
    assert "trend" in progress.explanation


def test_no_baseline_is_insufficient_data() -> None:
    progress = measure_progress({1: [100.0, 101.0], 2: [120.0, 121.0]}, spec=DENSITY)
    assert progress.verdict == "insufficient data"
    assert "no baseline" in progress.explanation
    assert progress.to_json()["change_pct"] is None


def test_one_measured_session_is_insufficient_data() -> None:
    progress = measure_progress({0: [100.0, 101.0], 1: [None]}, spec=DENSITY)
    assert progress.verdict == "insufficient data"
    assert len(progress.points) == 1


def test_without_replicates_the_benchmarked_cv_sets_the_noise() -> None:
    # SD = 0.08 · 200 = 16; MDC = 1.96 · √2 · 16 = 44.35 (22.17 %).
    within = measure_progress({0: [200.0], 1: [230.0]}, spec=DENSITY)
    assert within.precision is not None
    assert within.precision.source == "benchmark"
    assert within.points[-1].mdc == pytest.approx(1.96 * math.sqrt(2) * 16)
    assert within.points[-1].mdc_pct == pytest.approx(22.174, abs=1e-3)
    assert within.verdict == "no measurable change"
    beyond = measure_progress({0: [200.0], 1: [250.0]}, spec=DENSITY)
    assert beyond.verdict == "improving"
    assert "benchmarked repeatability (CV 8 %)" in beyond.explanation


def test_a_single_replicate_pair_is_too_few_degrees_of_freedom() -> None:
    progress = measure_progress({0: [100.0, 104.0], 1: [120.0]}, spec=DENSITY)
    assert progress.precision is not None
    assert progress.precision.source == "benchmark"
    # baseline SEM = 8.16/√2, follow-up SEM = 8.16 (SD = 0.08 · 102).
    sd = 0.08 * 102
    assert progress.points[-1].mdc == pytest.approx(1.96 * math.sqrt(sd**2 / 2 + sd**2))


def test_first_improving_session_is_where_it_stays_beyond_the_mdc() -> None:
    # changes +10, +1, +10, +12: above, below, above, above → stays above from session 3.
    progress = measure_progress(replicated(100, 110, 101, 110, 112), spec=DENSITY)
    assert progress.verdict == "improving"
    assert progress.first_improving_session == 3
    assert "since session 3" in progress.explanation


def test_lower_vellus_fraction_is_improving() -> None:
    values = {0: [0.30, 0.32, 0.28], 1: [0.25, 0.27, 0.23], 2: [0.20, 0.22, 0.18]}
    progress = measure_progress(values, spec=VELLUS)
    assert progress.points[-1].change == pytest.approx(-0.10)
    assert progress.verdict == "improving"
    assert "fell" in progress.explanation


def test_explanation_states_change_and_uncertainty() -> None:
    progress = measure_progress(replicated(100, 110, 120), spec=DENSITY)
    assert "+20.0 %" in progress.explanation
    assert "±3.2 %" in progress.explanation
    assert "replicate photos" in progress.explanation


def test_summary_json_of_a_measure() -> None:
    assert measure_progress(replicated(100, 110, 120), spec=DENSITY).to_json() == {
        "baseline": pytest.approx(100.0),
        "latest": pytest.approx(120.0),
        "change_pct": pytest.approx(20.0),
        "mdc_pct": pytest.approx(MDC_THREE_REPLICATES),
        "verdict": "improving",
        "first_improving_session": 1,
    }


def test_terminal_density_is_derived_from_count_and_area() -> None:
    measures = photo_measures({"terminal_count": 150, "area_cm2": 0.5, "density_per_cm2": 400.0})
    assert measures["terminal_density_per_cm2"] == pytest.approx(300.0)
    assert (
        photo_measures({"terminal_count": 150, "area_cm2": None})["terminal_density_per_cm2"]
        is None
    )


def test_site_progress_groups_photos_by_view_and_site() -> None:
    photos = [
        PhotoFigures(session, "trichoscopy", "vertex", {"density_per_cm2": value})
        for session, values in replicated(100, 110, 120).items()
        for value in values
    ] + [PhotoFigures(0, "global", "crown", {"coverage_pct": 60.0})]
    sites = site_progress(photos)
    assert [(s.view, s.site) for s in sites] == [("global", "crown"), ("trichoscopy", "vertex")]
    crown, vertex = sites
    assert crown.headline.verdict == "insufficient data"
    assert vertex.headline.verdict == "improving"
    assert vertex.measured_sessions == 3
    assert vertex.measures["mean_width_um"].verdict == "insufficient data"


def test_progress_at_each_session_uses_only_earlier_sessions() -> None:
    # means 100, 110, 101: improving at session 1 (+10 > 3.2), not at session 2 (+1).
    at = progress_at_each_session(replicated(100, 110, 101), spec=DENSITY)
    assert [p.verdict for p in at.values()] == [
        "insufficient data",
        "improving",
        "no measurable change",
    ]
    assert len(at[1].points) == 2
