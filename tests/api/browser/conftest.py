"""Browser tests: Debian's headless Chromium driven by Selenium through Debian's chromedriver.

- `chromium` (session): installs `chromium` and `chromium-driver` with apt-get when
  /usr/bin/chromium or /usr/bin/chromedriver is missing and we are root; otherwise, or when the
  install fails, every browser test FAILS (never skips) with one line saying how to install them.
- `browser`: a fresh headless Chromium per test (its own profile in a temporary directory),
  with the flags a root user on a machine without outside network needs: no sandbox, and none
  of Chromium's own background connections (they are refused here and slow every page down).
  Selenium is told where the driver and the browser are, so it never downloads either.
- Screenshots go to `artifacts/` in the repo root (git-ignored).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
APT_SECONDS = 900  # a first install fetches about 100 MB of packages
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
)


def _missing() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]


def _install() -> str | None:
    """apt-get update, then install; None when it worked, else why not (one line)."""
    environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]  # another apt-get may be running: wait for it
    for command in (["apt-get", *lock, "update"], ["apt-get", *lock, "install", "-y", "chromium", "chromium-driver"]):
        try:
            done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=APT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)}: {exc}"
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
            return f"{' '.join(command)} exited {done.returncode}: {last}"
    return None


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium and chromedriver, installed here if missing (as root), else a failure."""
    missing = _missing()
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            why = "not root" if shutil.which("apt-get") else "no apt-get"
            pytest.fail(f"browser tests need {' and '.join(missing)} ({why}, so not installed here); "
                        f"install them as root with: {INSTALL}", pytrace=False)
        error = _install()
        if error is not None or _missing():
            pytest.fail(f"installing Chromium failed ({error or 'still missing: ' + ', '.join(_missing())}); "
                        f"install it as root with: {INSTALL}", pytrace=False)
    return CHROMIUM


@pytest.fixture
def browser(chromium: Path, tmp_path: Path) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
