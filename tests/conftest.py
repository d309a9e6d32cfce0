"""Shared database fixtures: every data test runs on SQLite and on PostgreSQL.

``database_url`` is an empty database migrated to head, parametrised over ``sqlite`` (a copy
of a migrated file, in the test's temporary directory) and ``postgresql`` (a uniquely named
database per xdist worker on ``TEST_POSTGRES_URL``, emptied before each test and dropped at
the end). ``empty_database_url`` is a fresh database without tables (one per test).
Without a reachable server the PostgreSQL cases are skipped, except with ``CI=true``.
``records`` points the process (``db.configure``) at ``database_url`` with a temporary
``TRACKER_DATA_DIR``; ``clinic`` adds a clinic with an admin and a clinician.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import psycopg
import pytest
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy.engine import make_url

import db
from db.migrate import migrate_to_head
from models import Base, PhotoView, Role
from tracker.measurement import Measurement, Quality, QualityIssue
from tracker.registration import Registration, identity_registration
from tracker.services import auth, clinics, photos, progress, users
from tracker.services.access import Actor
from tracker.services.records import ClinicRecord, PhotoUpload

if TYPE_CHECKING:
    from tests.test_app_helpers import DemoClinic

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_PASSWORD = "correct horse battery"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def postgres_server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server URL, or a skip (a failure with CI=true) when it cannot be reached."""
    url = postgres_server_url()
    try:
        psycopg.connect(_libpq(url), connect_timeout=3).close()
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@contextmanager
def scratch_postgres(server: str) -> Iterator[str]:
    """A uniquely named empty database on ``server``, dropped after use."""
    name = f"tracker_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        db.dispose()
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_worker_database(postgres_server: str) -> Iterator[str]:
    """A database migrated to head once per worker (xdist process); tests empty it."""
    with scratch_postgres(postgres_server) as url:
        migrate_to_head(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tracker.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A scratch database without any table."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    with scratch_postgres(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A scratch database migrated to head."""
    if backend == "sqlite":
        path = tmp_path / "tracker.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_worker_database")
    # Emptying the tables is much cheaper than creating and dropping a database per test.
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    yield url
    db.dispose()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("TRACKER_DATA_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True)
def _main_module_restored() -> Iterator[None]:
    """Put back ``sys.modules["__main__"]`` after each test.

    Streamlit's AppTest leaves the last page script it ran installed as ``__main__``; a
    later "spawn" process pool in the same worker (the analyze command, the demo seed, the
    migration tests) would then run that page again in every child and break the pool.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


# Production argon2 settings cost most of a second a hash on a shared machine; the tests
# check the login rules, not the hash strength (test_services_auth checks the real ones).
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def records(database_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process configured on a migrated scratch database and data directory."""
    monkeypatch.setattr(auth, "_hasher", QUICK_HASHER)
    monkeypatch.setenv("DATABASE_URL", database_url)
    db.configure(database_url)
    yield database_url
    db.dispose()


@dataclass(frozen=True)
class ClinicStaff:
    clinic: ClinicRecord
    operator: Actor
    admin: Actor
    clinician: Actor


def make_clinic(name: str) -> ClinicStaff:
    """A clinic with an admin and a clinician account (emails derived from ``name``)."""
    clinic = clinics.ensure_clinic(name)
    operator = Actor.operator(clinic.id)
    slug = name.lower().replace(" ", "-")
    staff = {}
    for role in (Role.ADMIN, Role.CLINICIAN):
        user = users.create_user(
            operator, role=role, email=f"{role.value}@{slug}.test", password=TEST_PASSWORD
        )
        staff[role] = Actor(user.id, role, clinic.id, email=user.email)
    return ClinicStaff(clinic, operator, staff[Role.ADMIN], staff[Role.CLINICIAN])


@pytest.fixture
def clinic(records: str) -> ClinicStaff:
    return make_clinic("Clinic A")


@cache
def scalp_png(seed: int, size: int = 640) -> bytes:
    """A small real photo: skin-coloured background crossed by dark 3 px hair strokes."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), (205, 160, 135), dtype=np.uint8)
    for _ in range(40 + seed % 20):
        start = rng.integers(0, size, 2)
        end = start + rng.integers(-150, 150, 2)
        cv2.line(image, tuple(map(int, start)), tuple(map(int, end)), (45, 30, 25), thickness=3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


QUICK_ALGORITHM_VERSION = "test-dark-pixels-1"


def dark_pixel_measure(
    rgb: np.ndarray, upload: PhotoUpload, vellus_threshold_um: float
) -> Measurement:
    """A fast stand-in for the engine that still measures the image it is given.

    Dark pixels are counted as hair; a photo that is dark all over is flagged as
    underexposed, so the quality path is exercised too.
    """
    # The strokes of scalp_png are 3 px wide.
    dark = rgb.mean(axis=2) < 100
    brightness = float(rgb.mean())
    issues = (
        (QualityIssue("underexposed", "The photo is too dark.", brightness),)
        if brightness < 60
        else ()
    )
    coverage = round(100.0 * float(dark.mean()), 4)
    if upload.view is PhotoView.GLOBAL:
        figures: dict[str, float | int | None] = {"coverage_pct": coverage}
    else:
        area_cm2 = (rgb.shape[0] * rgb.shape[1]) / (upload.px_per_mm or 100.0) ** 2 / 100.0
        hair_count = int(dark.sum() // 300)
        figures = {
            "area_cm2": area_cm2 if upload.px_per_mm else None,
            "hair_count": hair_count,
            "density_per_cm2": hair_count / area_cm2 if upload.px_per_mm else None,
            "terminal_count": hair_count,
            "vellus_count": 0,
            "vellus_fraction": 0.0,
            "mean_width_um": 3 * 1000 / upload.px_per_mm if upload.px_per_mm else None,
            "follicular_units": hair_count,
            "hairs_per_unit": 1.0 if hair_count else None,
        }
    return Measurement(
        view=upload.view.value,
        px_per_mm=upload.px_per_mm,
        px_per_mm_source="device" if upload.px_per_mm else None,
        algorithm_version=QUICK_ALGORITHM_VERSION,
        quality=Quality(issues),
        figures=figures,
        overlay_rgb=np.where(dark[..., None], np.uint8(255), rgb).astype(np.uint8),
    )


def same_spot_stand_in(
    rgb: np.ndarray, measurement: Measurement, *, baseline_rgb: np.ndarray | None
) -> tuple[Registration, None]:
    """Registration for the stand-in engine: every photo is of the baseline's spot (the test
    photos of one site are different images) and there are no traced hairs to count on the
    reference region, so progress uses the whole-frame figures."""
    return identity_registration(), None


@pytest.fixture
def quick_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measure added photos with :func:`dark_pixel_measure` instead of the full engine, which
    is then the current engine that progress judges series on."""
    monkeypatch.setattr(photos, "measure", dark_pixel_measure)
    monkeypatch.setattr(photos, "locate_on_baseline", same_spot_stand_in)
    monkeypatch.setattr(progress, "ALGORITHM_VERSION", QUICK_ALGORITHM_VERSION)


@pytest.fixture
def demo_clinic(clinic: ClinicStaff, quick_measure: None) -> DemoClinic:
    """A small measured clinic (two patients, progress and photos) for the app tests."""
    # Imported here so that only the app tests load Streamlit's testing machinery.
    from tests.test_app_helpers import build_demo_clinic

    return build_demo_clinic(clinic)
