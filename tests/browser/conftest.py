"""Fixtures for the browser tests: the fake API, JupyterLab and Debian's Chromium, all on 127.0.0.1.

Everything is torn down in the fixtures' `finally` blocks, failed test or not. Nothing here may reach
an address other than 127.0.0.1: Lab's update check, news feed and PyPI extension manager are turned
off, Chromium runs with background networking disabled and a dead proxy for every non-loopback
address, and any page request to another host is recorded (`BrowserSession.outside_requests`).

Without Chromium the test is skipped, saying how to install it, unless `CLAUDE_MAGIC_REQUIRE_BROWSER`
is set (`.ci/run` sets it), in which case it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "browser"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Anything not on the loopback goes to a proxy where nothing listens (Chromium never proxies the
    # loopback), so no request can leave the machine, IP literals included.
    "--proxy-server=http://127.0.0.1:9",
]

LAB_START_TIMEOUT = 45.0
LAB_STOP_TIMEOUT = 10.0

# What Lab would otherwise fetch from the internet, and the notebook setting that keeps every cell in
# the DOM (the default "contentVisibility" windowing lets the browser skip laying out offscreen cells).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _browser_required() -> bool:
    return os.environ.get("CLAUDE_MAGIC_REQUIRE_BROWSER", "").strip() not in ("", "0")


def _find_chromium() -> str | None:
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _find_chromium()
    if path is None:
        message = (
            "Chromium not installed: run `apt-get install -y chromium` (Debian's package, as root); "
            "the test drives /usr/bin/chromium through Playwright, no `playwright install` needed."
        )
        if _browser_required():
            pytest.fail(f"CLAUDE_MAGIC_REQUIRE_BROWSER is set but {message}", pytrace=False)
        pytest.skip(message)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail('Playwright for Python is missing: pip install -e ".[browser]"', pytrace=False)
    return path


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "failure.png").unlink(missing_ok=True)  # only this run's failure may leave one
    return ARTIFACTS


# --------------------------------------------------------------------------------------- JupyterLab


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab server on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(
            f"{self.base}/api/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no Lab log)"


def _lab_environment(home: Path, fake_base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # tests/conftest.py forces strict replay for its own kernels; this kernel talks to the fake server.
    env.pop("CLAUDE_MAGIC_FIXTURE_MODE", None)
    env.pop("ANTHROPIC_AUTH_TOKEN", None)
    env.update(
        ANTHROPIC_BASE_URL=fake_base_url,
        ANTHROPIC_API_KEY="sk-ant-fake-browser-test-0000",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _stop_lab(lab: Lab) -> None:
    # Kernels first, through the API (the server would do it on SIGTERM too, but this is bounded).
    if lab.process.poll() is None:
        try:
            for kernel in lab.api("GET", "kernels", timeout=5):
                lab.api("DELETE", f"kernels/{kernel['id']}", timeout=5)
        except (OSError, urllib.error.URLError, ValueError):
            pass
    if lab.process.poll() is None:
        lab.process.send_signal(signal.SIGTERM)
        try:
            lab.process.wait(LAB_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait(5)


@pytest.fixture
def lab(fake_api, tmp_path: Path, artifacts: Path) -> Iterator[Lab]:
    """JupyterLab on a free port of 127.0.0.1 with a temporary root, config and settings; the kernel
    it starts inherits ANTHROPIC_BASE_URL (the fake server) and a fake key."""
    home = tmp_path / "jupyter"
    root = tmp_path / "root"
    root.mkdir()
    for relative, settings in LAB_SETTINGS.items():
        target = home / "settings" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    port, token = _free_port(), secrets.token_hex(16)
    log = artifacts / "lab.log"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=_lab_environment(home, fake_api.base_url),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Lab(process=process, port=port, token=token, root=root, log=log)
    try:
        deadline = time.monotonic() + LAB_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}", pytrace=False)
            try:
                server.api("GET", "status", timeout=2)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    message = f"JupyterLab did not answer in {LAB_START_TIMEOUT:.0f} s:\n{server.log_tail()}"
                    pytest.fail(message, pytrace=False)
                time.sleep(0.1)
        yield server
    finally:
        _stop_lab(server)


# ------------------------------------------------------------------------------------------ Chromium


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost")


@dataclass
class BrowserSession:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets `browser_session` see in its teardown whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser_session(request, chromium_executable: str, artifacts: Path) -> Iterator[BrowserSession]:
    """A page of a fresh headless Chromium context; console errors, page errors and attempts to reach
    any host other than 127.0.0.1 are collected. A failed test leaves `failure.png`."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = None
    try:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, timeout=30_000)
        context = browser.new_context(viewport={"width": 1400, "height": 1500})
        context.set_default_timeout(20_000)
        session = BrowserSession(page=context.new_page())

        # Observed, not intercepted: a route handler would stall every request whenever Python is busy.
        context.on("request", lambda req: _is_local(req.url) or session.outside_requests.append(req.url))
        def console(message: Any) -> None:
            where = message.location.get("url", "")
            if message.type == "error":
                session.console_errors.append(f"{message.text} @ {where}")
            elif message.type == "warning":
                session.console_warnings.append(f"{message.text} @ {where}")

        session.page.on("console", console)
        session.page.on("pageerror", lambda error: session.page_errors.append(str(error)))
        yield session
        call = getattr(request.node, "report_call", None)
        if call is not None and call.failed:
            print(f"console errors: {session.console_errors}\npage errors: {session.page_errors}")
            print(f"requests to other hosts: {session.outside_requests}")
            try:
                session.page.screenshot(path=str(artifacts / "failure.png"), timeout=10_000)
                print(f"failure screenshot: {artifacts / 'failure.png'}")
            except Exception as error:  # the page may be what broke
                print(f"no failure screenshot: {error}")
    finally:
        if browser is not None:
            browser.close()
        playwright.stop()
