"""A real headless Chromium against ``streamlit run app.py`` on a scratch data directory.

The server runs on a free local port with its own SQLite database and photo store, seeded
with a small demo clinic through the same command ``make run`` uses. Screenshots go to
``test-artifacts/`` so a failure can be looked at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60


@dataclass(frozen=True)
class RunningApp:
    url: str
    data_dir: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium, or `make system-deps`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@contextmanager
def running_app(
    data_dir: Path, *, port: int | None = None, secrets_file: Path | None = None
) -> Iterator[RunningApp]:
    """``streamlit run app.py`` on ``port`` (default: a free one) of 127.0.0.1, over a demo
    clinic seeded in ``data_dir``.

    ``secrets_file`` replaces the repository's ``.streamlit/secrets.toml`` (e.g. an
    ``[auth]`` section for single sign-on); without it the app has no secrets at all.
    """
    env = {
        **os.environ,
        "TRACKER_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'tracker.db'}",
    }
    for command in (
        ["db", "upgrade"],
        ["demo", "seed", "--patients", "2", "--sessions", "1", "--replicates", "1"],
    ):
        subprocess.run([sys.executable, "-m", "tracker", *command], cwd=REPO, env=env, check=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "streamlit.log"
    secrets = secrets_file or data_dir / "no-secrets.toml"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
                "--secrets.files",
                str(secrets),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_healthy(url, server)
            yield RunningApp(url=url, data_dir=data_dir)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def app_server(
    chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("app-data")) as app:
        yield app


@pytest.fixture(scope="module")
def browser(chromium_executable: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_executable), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    context.close()
