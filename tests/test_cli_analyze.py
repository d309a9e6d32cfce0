"""``python -m tracker analyze`` run as other tools run it: a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_analysis import _global_photo, _trichoscopy
from tracker import analysis
from tracker.analysis import ALGORITHM_VERSION, analyze_file
from tracker.batch import BatchOptions, map_in_waves, measure_files
from tracker.measurement import TRICHOSCOPY_FIGURES
from tracker.phantoms import TrichoscopyConditions

REPO = Path(__file__).resolve().parents[1]
TRICHOSCOPY_KEYS = [
    "image",
    "view",
    "px_per_mm",
    "algorithm_version",
    "quality",
    *TRICHOSCOPY_FIGURES,
]


def _run(*args: str | Path, workers: int = 1) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker", "analyze", *map(str, args), "--workers", str(workers)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    paths = {
        "first": folder / "first.png",
        "second": folder / "second.jpg",
        "global": folder / "crown.png",
        "text": folder / "notes.jpg",
        "missing": folder / "never-written.png",
    }
    Image.fromarray(_trichoscopy()[0]).save(paths["first"])
    blurred = _trichoscopy(TrichoscopyConditions(noise_sigma=0.01, blur_sigma_px=3.0))[0]
    Image.fromarray(blurred).save(paths["second"], quality=92)
    Image.fromarray(_global_photo()).save(paths["global"])
    paths["text"].write_text("not a photo\n")
    return paths


def test_json_batch_keeps_order_and_reports_unreadable_files(
    photos: dict[str, Path], tmp_path: Path
) -> None:
    overlays = tmp_path / "overlays"
    order = [photos["first"], photos["text"], photos["second"], photos["missing"]]
    result = _run(
        *order, "--view", "trichoscopy", "--px-per-mm", "100", "--json",
        "--overlay-dir", overlays, workers=2,
    )  # fmt: skip

    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    assert [entry["image"] for entry in report] == [str(path) for path in order]
    first, text, second, missing = report
    for measured in (first, second):
        assert list(measured) == TRICHOSCOPY_KEYS
        assert measured["view"] == "trichoscopy"
        assert measured["px_per_mm"] == 100.0
        assert measured["algorithm_version"] == ALGORITHM_VERSION
        assert list(measured["quality"]) == ["ok", "issues"]
        assert measured["hair_count"] > 0
    assert first["quality"] == {"ok": True, "issues": []}
    assert second["quality"]["ok"] is False
    blur = next(issue for issue in second["quality"]["issues"] if issue["code"] == "blur")
    assert list(blur) == ["code", "message", "value"]
    assert isinstance(blur["value"], float)
    assert list(text) == ["image", "error"] and "not a photo" in text["error"]
    assert list(missing) == ["image", "error"] and "cannot read" in missing["error"]
    # The CLI gives exactly what the library gives for the same file.
    library = analyze_file(photos["first"], view="trichoscopy", px_per_mm=100.0)
    assert {name: first[name] for name in TRICHOSCOPY_FIGURES} == library.figures
    written = sorted(path.name for path in overlays.iterdir())
    assert written == ["first.overlay.png", "second.overlay.png"]
    overlay = np.asarray(Image.open(overlays / "first.overlay.png"))
    assert overlay.shape == (720, 960, 3)
    assert "Measuring" in result.stderr  # the progress bar


def test_roi_restricts_the_measured_area(photos: dict[str, Path], tmp_path: Path) -> None:
    narrow = tmp_path / "narrow.png"
    Image.fromarray(_trichoscopy()[0][:660, :700]).save(narrow)
    result = _run(
        photos["first"], narrow, "--view", "trichoscopy", "--px-per-mm", "100",
        "--roi", "800,0,100,100", "--json",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    inside, outside = json.loads(result.stdout)
    assert inside["area_cm2"] == pytest.approx(100 * 100 / 100.0**2 / 100.0)
    assert outside == {"image": str(narrow), "error": outside["error"]}
    assert "outside the 700×660 photo" in outside["error"]


def test_global_table_names_unreadable_files(photos: dict[str, Path]) -> None:
    result = _run(photos["global"], photos["text"], "--view", "global", "--roi", "0,0,500,768")
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["image", "px/mm", "quality", "coverage_pct"]
    assert lines[1].split()[0] == str(photos["global"])
    assert lines[2].split()[:3] == [str(photos["text"]), "-", "ERROR"]
    assert any(line.startswith(f"{photos['text']}: The file is not a photo") for line in lines)


def test_uncalibrated_trichoscopy_says_so_in_the_table(photos: dict[str, Path]) -> None:
    result = _run(photos["first"], "--view", "trichoscopy")
    assert result.returncode == 0, result.stderr
    assert "Uncalibrated" in result.stdout


def test_bad_roi_is_refused_with_the_reason(photos: dict[str, Path]) -> None:
    result = _run(photos["first"], "--view", "trichoscopy", "--roi", "10,20,thirty,40")
    assert result.returncode == 2
    assert "region of interest" in result.stderr
    assert result.stdout == ""


def test_workers_import_the_imaging_stack_but_not_the_command_line_or_records() -> None:
    # A worker imports tracker.batch and what it needs; the command line and the records
    # layer (SQLAlchemy, reports) would add seconds to the start of every worker.
    probe = (
        "import sys, tracker.batch; "
        "print(sorted(m for m in ('tracker.commands', 'tracker.services', 'sqlalchemy', 'db')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_analyze_imports_neither_the_other_commands_nor_the_records_layer(
    photos: dict[str, Path],
) -> None:
    # Importing every command's module (SQLAlchemy, services, PDF reports) cost analyze
    # about a CPU second before its first photo.
    probe = (
        "import sys; from tracker.cli import main; "
        f"main(['analyze', {str(photos['first'])!r}, '--view', 'trichoscopy', '--workers', '1']); "
        "print(sorted(m for m in ('tracker.commands.db', 'tracker.services', 'sqlalchemy', 'db')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "first.png" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"


def test_two_workers_give_what_one_gives(photos: dict[str, Path]) -> None:
    images = [photos["first"], photos["missing"], photos["second"]]
    names = [f"{index}.png" for index in range(len(images))]
    options = BatchOptions(view="trichoscopy", px_per_mm=100.0)
    done: list[None] = []
    parallel = measure_files(images, names, options, workers=2, on_done=lambda: done.append(None))
    assert parallel == measure_files(images, names, options, workers=1)
    assert [outcome.json["image"] for outcome in parallel] == [str(path) for path in images]
    assert len(done) == len(images)


def test_an_interrupt_cancels_the_jobs_not_started_and_reports_the_running_ones(
    tmp_path: Path,
) -> None:
    reported: list[str] = []

    def interrupted_once(name: str) -> None:
        reported.append(name)
        if len(reported) == 1:
            raise KeyboardInterrupt

    waves = [[(tmp_path, f"{wave}-{job}") for job in range(10)] for wave in (1, 2)]
    with pytest.raises(KeyboardInterrupt):
        map_in_waves(_touch_slowly, waves, workers=2, on_done=interrupted_once)
    # Every job that ran was reported; the ones not yet handed to a worker never ran, nor
    # did the second wave.
    ran = sorted(path.name for path in tmp_path.iterdir())
    assert sorted(reported) == ran
    assert 2 <= len(ran) < 10
    assert all(name.startswith("1-") for name in ran)


def _touch_slowly(directory: Path, name: str) -> str:
    time.sleep(0.5)
    (directory / name).touch()
    return name


def test_overlays_are_drawn_only_for_an_overlay_dir(
    photos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[int, ...]] = []
    real_draw = analysis.draw_trichoscopy_overlay

    def counting_draw(rgb: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        drawn.append(rgb.shape)
        return real_draw(rgb, *args, **kwargs)

    monkeypatch.setattr(analysis, "draw_trichoscopy_overlay", counting_draw)
    images, names = [photos["first"]], ["first.overlay.png"]
    options = BatchOptions(view="trichoscopy", px_per_mm=100.0)
    (without,) = measure_files(images, names, options, workers=1)
    assert drawn == []
    (written,) = measure_files(images, names, replace(options, overlay_dir=tmp_path), workers=1)
    assert drawn == [(720, 960, 3)]
    assert written == without
    assert np.asarray(Image.open(tmp_path / names[0])).shape == (720, 960, 3)
