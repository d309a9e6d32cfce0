"""Every verdict rule of docs/verdict-rules.md, each with a hand-computed case.

Density's benchmarked photo CV is 7 %: at a baseline of 100 the benchmark SD is 7 (variance
49), weighted as 4 degrees of freedom next to the replicates' own. The between-visit term is
0 in these cases unless a test sets it (``WITH_VISIT_TERM``: 3 %).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tracker.progress import (
    MEASURES,
    LeftOutPoint,
    PhotoFigures,
    headline_series,
    measure_progress,
    photo_measures,
    photo_precision,
    progress_at_each_session,
    site_progress,
    split_series,
)

# Fixed CVs, so the hand-computed cases do not move when the benchmark is re-run.
DENSITY = replace(MEASURES["density_per_cm2"], photo_cv=0.07, visit_cv=0.0)
VELLUS = replace(MEASURES["vellus_fraction"], photo_cv=0.20, visit_cv=0.0)
WITH_VISIT_TERM = replace(DENSITY, visit_cv=0.03)
# Three replicates with SD 2 around each mean (variance 4, 2 degrees of freedom a visit).
SPREAD = (0.0, 2.0, -2.0)
# The engine version the series are judged on, and an older one (rule 28).
ENGINE, OLDER_ENGINE = "engine-2", "engine-1"


def mdc_three_replicates(*, sessions: int, benchmark_sd: float = 7.0) -> float:
    """MDC95 of a change between two visits of three photos, by rules 5, 8 and 9."""
    df = 2 * sessions
    variance = (df * 4 + 4 * benchmark_sd**2) / (df + 4)
    return 1.96 * math.sqrt(2 * variance / 3)


# Three sessions: variance (6·4 + 4·49) / 10 = 22, MDC = 1.96·√(2·22/3) = 7.506.
MDC_THREE_SESSIONS = 7.506


def replicated(*means: float) -> dict[int, list[float]]:
    return {session: [m + d for d in SPREAD] for session, m in enumerate(means)}


def test_photo_sd_pools_replicates_with_the_benchmark() -> None:
    # var [10, 12] = 2 (df 1); var [20, 23, 26] = 9 (df 2); benchmark SD 3 as 4 df:
    # (2 + 18 + 4·9) / (3 + 4) = 8.
    precision = photo_precision({0: [10.0, 12.0], 1: [20.0, 23.0, 26.0]}, benchmark_sd=3.0)
    assert precision.replicate_df == 3
    assert precision.replicate_sd == pytest.approx(math.sqrt(20 / 3))
    assert precision.sd == pytest.approx(math.sqrt(8))


def test_photo_sd_without_replicates_is_the_benchmark() -> None:
    precision = photo_precision({0: [10.0], 1: [12.0]}, benchmark_sd=3.0)
    assert (precision.sd, precision.replicate_sd, precision.replicate_df) == (3.0, None, 0)


def test_mdc_helper_matches_the_hand_value() -> None:
    assert mdc_three_replicates(sessions=3) == pytest.approx(MDC_THREE_SESSIONS, abs=1e-3)


def test_improving_when_change_exceeds_mdc_and_trend_is_up() -> None:
    progress = measure_progress(replicated(100, 110, 120), spec=DENSITY)
    assert progress.precision is not None
    assert progress.precision.sd == pytest.approx(math.sqrt(22))
    latest = progress.points[-1]
    assert latest.sem == pytest.approx(math.sqrt(22 / 3))
    assert latest.mdc == pytest.approx(MDC_THREE_SESSIONS, abs=1e-3)
    assert latest.change == pytest.approx(20.0)
    assert latest.change_pct == pytest.approx(20.0)
    assert latest.mdc_pct == pytest.approx(MDC_THREE_SESSIONS, abs=1e-3)  # baseline is 100
    assert progress.trend_per_session == pytest.approx(10.0)
    assert progress.verdict == "improving"
    assert progress.first_improving_session == 1


def test_worsening_is_the_mirror_of_improving() -> None:
    progress = measure_progress(replicated(100, 95, 90), spec=DENSITY)
    assert progress.verdict == "worsening"
    assert progress.first_improving_session is None


def test_change_within_mdc_is_no_measurable_change() -> None:
    # change 7 < MDC 7.506 even though the trend is up.
    progress = measure_progress(replicated(100, 104, 107), spec=DENSITY)
    assert progress.points[-1].change == pytest.approx(7.0)
    assert progress.verdict == "no measurable change"
    assert "No measurable change yet" in progress.explanation


def test_change_beyond_mdc_against_the_trend_is_no_measurable_change() -> None:
    # means 100, 150, 90, 110: slope = −15 / 5 = −3; change +10 > MDC 6.976
    # (variance (8·4 + 4·49) / 12 = 19).
    progress = measure_progress(replicated(100, 150, 90, 110), spec=DENSITY)
    assert progress.trend_per_session == pytest.approx(-3.0)
    assert progress.points[-1].mdc == pytest.approx(mdc_three_replicates(sessions=4))
    assert progress.points[-1].mdc == pytest.approx(6.976, abs=1e-3)
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
    # SD = 0.07 · 200 = 14; MDC = 1.96 · √2 · 14 = 38.81 (19.40 %).
    within = measure_progress({0: [200.0], 1: [230.0]}, spec=DENSITY)
    assert within.precision is not None
    assert within.precision.replicate_sd is None
    assert within.points[-1].mdc == pytest.approx(38.806, abs=1e-3)
    assert within.points[-1].mdc_pct == pytest.approx(19.403, abs=1e-3)
    assert within.verdict == "no measurable change"
    beyond = measure_progress({0: [200.0], 1: [250.0]}, spec=DENSITY)
    assert beyond.verdict == "improving"
    assert "benchmarked repeatability (CV 7.0 % per photo" in beyond.explanation
    assert "replicate" not in beyond.explanation


def test_a_lucky_replicate_pair_cannot_shrink_the_noise_to_nothing() -> None:
    # Identical pair: replicate variance 0 over 1 df; benchmark SD 7 over 4 df →
    # variance 4·49/5 = 39.2; MDC = 1.96 · √(39.2/2 + 39.2) = 15.03.
    progress = measure_progress({0: [100.0, 100.0], 1: [110.0]}, spec=DENSITY)
    assert progress.precision is not None
    assert progress.precision.replicate_sd == 0.0
    assert progress.points[-1].mdc == pytest.approx(15.03, abs=1e-2)
    assert progress.verdict == "no measurable change"


def test_first_improving_session_is_where_it_stays_beyond_the_mdc() -> None:
    # changes +10, +1, +10, +12 against MDC 6.57 (variance (10·4 + 4·49) / 14 = 16.86):
    # above, below, above, above → stays above from session 3.
    progress = measure_progress(replicated(100, 110, 101, 110, 112), spec=DENSITY)
    assert progress.points[-1].mdc == pytest.approx(mdc_three_replicates(sessions=5))
    assert progress.verdict == "improving"
    assert progress.first_improving_session == 3
    assert "since session 3" in progress.explanation


def test_lower_vellus_fraction_is_improving() -> None:
    # variance (6 · 0.0004 + 4 · (0.20 · 0.30)²) / 10 = 0.00168 → MDC 0.0656.
    values = {0: [0.30, 0.32, 0.28], 1: [0.25, 0.27, 0.23], 2: [0.20, 0.22, 0.18]}
    progress = measure_progress(values, spec=VELLUS)
    assert progress.points[-1].change == pytest.approx(-0.10)
    assert progress.points[-1].mdc == pytest.approx(1.96 * math.sqrt(2 * 0.00168 / 3))
    assert progress.verdict == "improving"
    assert "fell" in progress.explanation


def test_explanation_states_change_and_uncertainty() -> None:
    progress = measure_progress(replicated(100, 110, 120), spec=DENSITY)
    assert "+20.0 %" in progress.explanation
    assert "±7.5 %" in progress.explanation
    assert "replicate photos (SD 2.0 hairs/cm², 6 degrees of freedom)" in progress.explanation


def test_summary_json_of_a_measure() -> None:
    assert measure_progress(replicated(100, 110, 120), spec=DENSITY).to_json() == {
        "baseline": pytest.approx(100.0),
        "latest": pytest.approx(120.0),
        "change_pct": pytest.approx(20.0),
        "mdc_pct": pytest.approx(MDC_THREE_SESSIONS, abs=1e-3),
        "verdict": "improving",
        "first_improving_session": 1,
        "left_out_sessions": [],
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
        PhotoFigures(
            session, "trichoscopy", "vertex", {"density_per_cm2": value}, algorithm_version=ENGINE
        )
        for session, values in replicated(100, 110, 120).items()
        for value in values
    ] + [PhotoFigures(0, "global", "crown", {"coverage_pct": 60.0}, algorithm_version=ENGINE)]
    sites = site_progress(photos, version=ENGINE)
    assert [(s.view, s.site) for s in sites] == [("global", "crown"), ("trichoscopy", "vertex")]
    crown, vertex = sites
    assert crown.headline.verdict == "insufficient data"
    assert vertex.headline.verdict == "improving"
    assert vertex.measured_sessions == 3
    assert vertex.measures["mean_width_um"].verdict == "insufficient data"


def test_progress_at_each_session_uses_only_earlier_sessions() -> None:
    # means 100, 110, 101: improving at session 1 (+10 > MDC 8.24, variance (16 + 196) / 8),
    # not at session 2 (+1).
    at = progress_at_each_session(replicated(100, 110, 101), spec=DENSITY)
    assert [p.verdict for p in at.values()] == [
        "insufficient data",
        "improving",
        "no measurable change",
    ]
    assert len(at[1].points) == 2
    assert at[1].points[-1].mdc == pytest.approx(mdc_three_replicates(sessions=2))
    assert at[1].points[-1].mdc == pytest.approx(8.24, abs=1e-2)


def test_the_between_visit_term_does_not_shrink_with_replicates() -> None:
    # SD² = 22 as above; visit SD 0.03 · 100 = 3: SEM² = 22/3 + 9 = 16.333,
    # MDC = 1.96 · √(2 · 16.333) = 11.20. A change of +10 is beyond the MDC of 7.506
    # without the term, within it with the term.
    without = measure_progress(replicated(100, 105, 110), spec=DENSITY)
    assert without.verdict == "improving"
    progress = measure_progress(replicated(100, 105, 110), spec=WITH_VISIT_TERM)
    assert progress.precision is not None
    assert progress.precision.visit_sd == pytest.approx(3.0)
    assert progress.points[-1].sem == pytest.approx(math.sqrt(22 / 3 + 9))
    assert progress.points[-1].mdc == pytest.approx(11.20, abs=1e-2)
    assert progress.verdict == "no measurable change"
    assert measure_progress(replicated(100, 110, 120), spec=WITH_VISIT_TERM).verdict == (
        "improving"
    )


def test_a_single_photo_carries_photo_and_visit_noise() -> None:
    # SD 14 and visit SD 6 at 200: SEM² = 196 + 36 = 232, MDC = 1.96 · √464 = 42.22.
    progress = measure_progress({0: [200.0], 1: [240.0]}, spec=WITH_VISIT_TERM)
    assert progress.points[-1].mdc == pytest.approx(42.22, abs=1e-2)
    assert progress.verdict == "no measurable change"
    assert "3.0 % between visits" in progress.explanation


def test_a_series_uses_region_figures_only_when_every_photo_has_them() -> None:
    def photo(session: int, whole: float, region: float | None) -> PhotoFigures:
        return PhotoFigures(
            session,
            "trichoscopy",
            "vertex",
            {"density_per_cm2": whole},
            None if region is None else {"density_per_cm2": region},
            ENGINE,
        )

    registered = [photo(0, 100.0, 90.0), photo(1, 150.0, 91.0)]
    (site,) = site_progress(registered, version=ENGINE)
    assert site.registered
    assert [p.mean for p in site.headline.points] == [90.0, 91.0]
    mixed = [*registered, photo(2, 152.0, None)]
    (site,) = site_progress(mixed, version=ENGINE)
    assert not site.registered
    assert [p.mean for p in site.headline.points] == [100.0, 150.0, 152.0]


def test_a_whole_frame_series_carries_the_whole_frame_visit_term() -> None:
    spec = replace(DENSITY, whole_frame_visit_cv=0.03)
    assert spec.for_series(registered=True) == spec
    whole_frame = spec.for_series(registered=False)
    assert whole_frame.visit_cv == 0.03
    # As in the between-visit test above: MDC 1.96 · √(2 · (22/3 + 9)) = 11.20.
    progress = measure_progress(replicated(100, 105, 110), spec=whole_frame)
    assert progress.points[-1].mdc == pytest.approx(11.20, abs=1e-2)

    def photos(*, registered: bool) -> list[PhotoFigures]:
        return [
            PhotoFigures(
                session,
                "trichoscopy",
                "vertex",
                {"density_per_cm2": value},
                {"density_per_cm2": value} if registered else None,
                ENGINE,
            )
            for session, values in replicated(100, 105, 110).items()
            for value in values
        ]

    for registered in (True, False):
        (site,) = site_progress(photos(registered=registered), version=ENGINE)
        expected = measure_progress(
            replicated(100, 105, 110),
            spec=MEASURES["density_per_cm2"].for_series(registered=registered),
        )
        assert site.headline.points[-1].mdc == pytest.approx(expected.points[-1].mdc)
    registered_mdc = (
        site_progress(photos(registered=True), version=ENGINE)[0].headline.points[-1].mdc
    )
    assert site.headline.points[-1].mdc > registered_mdc


def engine_photos(means: dict[int, tuple[float, str]]) -> list[PhotoFigures]:
    """Three photos (SD 2) per session around its mean, measured by the given version."""
    return [
        PhotoFigures(
            session,
            "trichoscopy",
            "vertex",
            {"density_per_cm2": mean + spread},
            algorithm_version=version,
        )
        for session, (mean, version) in means.items()
        for spread in SPREAD
    ]


def test_photos_of_another_engine_version_are_left_out_of_the_verdict() -> None:
    # Judged on sessions 0 and 2: SD² = (4·4 + 4·49) / 8 = 26.5, MDC = 1.96·√(2·26.5/3) = 8.24;
    # +20 with slope +10 → improving since session 2. Session 1's 200 is the older engine's.
    older = LeftOutPoint(1, OLDER_ENGINE, 3, 200.0)
    density = measure_progress(replicated(100, 0, 120) | {1: []}, spec=DENSITY, left_out=[older])
    assert [p.session for p in density.points] == [0, 2]
    assert density.points[-1].mdc == pytest.approx(8.24, abs=1e-2)
    assert density.trend_per_session == pytest.approx(10.0)
    assert (density.verdict, density.first_improving_session) == ("improving", 2)
    assert density.left_out == (older,)
    assert density.explanation.endswith(
        "Left out: 3 photos of session 1, measured by another version of the measuring engine "
        "(engine-1); an administrator can re-measure them with the current engine "
        "(`python -m tracker photos reanalyse`)."
    )
    assert density.to_json()["left_out_sessions"] == [1]
    # From photos: the series is split by version, the older photos become that point.
    photos = engine_photos({0: (100, ENGINE), 1: (200, OLDER_ENGINE), 2: (120, ENGINE)})
    (site,) = site_progress(photos, version=ENGINE)
    assert site.version == ENGINE and site.left_out_versions == (OLDER_ENGINE,)
    assert [(p.session, p.version, p.n_photos) for p in site.headline.left_out] == [
        (1, OLDER_ENGINE, 3)
    ]
    assert site.headline.left_out[0].mean == pytest.approx(200.0)
    judged = measure_progress(
        replicated(100, 0, 120) | {1: []},
        spec=MEASURES["density_per_cm2"].for_series(registered=False),
    )
    assert site.headline.points == judged.points


def test_a_baseline_or_latest_session_of_another_engine_is_not_comparable() -> None:
    old_baseline = engine_photos({0: (100, OLDER_ENGINE), 1: (110, ENGINE), 2: (120, ENGINE)})
    (site,) = site_progress(old_baseline, version=ENGINE)
    assert site.headline.verdict == "not comparable"
    assert site.headline.precision is None and site.headline.to_json()["change_pct"] is None
    assert "the baseline (session 0) was measured only by another version" in (
        site.headline.explanation
    )
    old_latest = engine_photos({0: (100, ENGINE), 1: (110, ENGINE), 2: (150, OLDER_ENGINE)})
    (site,) = site_progress(old_latest, version=ENGINE)
    assert site.headline.verdict == "not comparable"
    assert "the latest session (2) was measured only" in site.headline.explanation
    # Only a baseline, of whichever version: insufficient data, as before.
    (site,) = site_progress(engine_photos({0: (100, OLDER_ENGINE)}), version=ENGINE)
    assert site.headline.verdict == "insufficient data"
    # Judged on the older version instead, the latest session is of another one.
    (site,) = site_progress(old_baseline, version=OLDER_ENGINE)
    assert site.headline.verdict == "not comparable"
    assert site_progress(old_latest, version=ENGINE)[0].headline.measured


def test_verdicts_as_they_stood_apply_the_version_rule_at_each_session() -> None:
    photos = engine_photos({0: (100, ENGINE), 1: (200, OLDER_ENGINE), 2: (120, ENGINE)})
    (series,) = split_series(photos, version=ENGINE)
    at = series.progress_at_each_session("density_per_cm2")
    assert {session: p.verdict for session, p in at.items()} == {
        0: "insufficient data",
        1: "not comparable",
        2: "improving",
    }


def test_the_headline_site_is_chosen_on_values_of_every_version() -> None:
    trichoscopy = engine_photos({0: (100, OLDER_ENGINE), 1: (110, OLDER_ENGINE)})
    global_photos = [
        PhotoFigures(s, "global", "crown", {"coverage_pct": 60.0}, algorithm_version=ENGINE)
        for s in (0, 1)
    ]
    chosen = headline_series(split_series([*trichoscopy, *global_photos], version=ENGINE))
    assert chosen is not None and (chosen.view, chosen.site) == ("trichoscopy", "vertex")
