"""Launching Chromium the same way for the playwright and selenium adapters, without downloading.

Which Chromium: the step's ``executable`` option, else the ``chromium`` setting
(``MAESTRO_CHROMIUM``), else Debian's ``/usr/bin/chromium`` when it exists, else Playwright's own
browser. Which chromedriver: the ``driver`` option, else the ``chromedriver`` setting, else
``/usr/bin/chromedriver``. Selenium Manager is never asked: it would try to download a driver and a
browser, which cannot work offline and must not happen behind a user's back.

Only the standard library is imported here at module level: the pytest plugin and the script runner
import this module inside the user's test process, and the adapters import it at validation time.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
DEBIAN_CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Quiet, reproducible, headless-friendly Chromium: no GPU on CI machines, no background traffic or
# component updates (there is no network, and they make runs slower and noisier), and no sandbox,
# which Chromium cannot set up when it runs as root (containers, CI).
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

EXTRA = "browser"
INSTALL_EXTRA = f"pip install 'maestro-cli[{EXTRA}]'"


@dataclass(frozen=True)
class BrowserSetup:
    """The resolved browser of one step: what the pytest plugin and the script runner launch."""

    executable: Path | None  # None: Playwright's own browser
    driver: Path | None = None  # chromedriver, for Selenium
    headed: bool = False


def resolve_executable(option: str | None, settings: Mapping[str, Any]) -> Path | None:
    """The Chromium to launch (see the module docstring); None leaves the choice to Playwright."""
    if option:
        return Path(option)
    if settings.get("chromium"):
        return Path(settings["chromium"])
    return DEBIAN_CHROMIUM if DEBIAN_CHROMIUM.exists() else None


def resolve_driver(option: str | None, settings: Mapping[str, Any]) -> Path | None:
    if option:
        return Path(option)
    if settings.get("chromedriver"):
        return Path(settings["chromedriver"])
    return DEBIAN_CHROMEDRIVER if DEBIAN_CHROMEDRIVER.exists() else None


def missing_path_problem(what: str, path: Path | None) -> str | None:
    """One line when a configured executable is absent, so the step fails before a browser starts."""
    if path is not None and not path.is_file():
        return f"{what} {path} does not exist"
    return None


def missing_extra(modules: tuple[str, ...], adapter: str) -> str | None:
    """The one line a plan gets when the ``browser`` extra is not installed, naming the extra."""
    absent = [name for name in modules if importlib.util.find_spec(name) is None]
    if not absent:
        return None
    return (
        f"adapter '{adapter}' needs {', '.join(absent)}, which is not installed: "
        f"install maestro's '{EXTRA}' extra ({INSTALL_EXTRA})"
    )


def chromium_args(headed: bool = False, user_data_dir: Path | None = None) -> list[str]:
    """Command-line flags for Chromium; Playwright adds its own headless flag and fresh profile."""
    args = list(CHROMIUM_FLAGS)
    if user_data_dir is not None:
        args.append(f"--user-data-dir={user_data_dir}")
    return args


def playwright_launch_options(setup: BrowserSetup, browser_name: str = "chromium") -> dict[str, Any]:
    """Keyword arguments for ``BrowserType.launch``; firefox and webkit are Playwright's own."""
    options: dict[str, Any] = {"headless": not setup.headed}
    if browser_name == "chromium":
        options["args"] = chromium_args()
        if setup.executable is not None:
            options["executable_path"] = str(setup.executable)
    return options


def offline_selenium_env(driver: Path | None) -> dict[str, str]:
    """Environment that keeps Selenium Manager from downloading anything, even in user code.

    ``SE_CHROMEDRIVER`` is the driver path Selenium's ``Service`` takes before asking Selenium
    Manager; ``SE_OFFLINE`` makes Selenium Manager fail instead of downloading if it is asked anyway.
    """
    env = {"SE_OFFLINE": "true"}
    if driver is not None:
        env["SE_CHROMEDRIVER"] = str(driver)
    return env


@contextmanager
def selenium_chrome(setup: BrowserSetup) -> Iterator[WebDriver]:
    """A Selenium Chrome driver on ``setup``'s Chromium and chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if setup.driver is None:
        raise RuntimeError(
            "no chromedriver: set the selenium step's `driver` option or MAESTRO_CHROMEDRIVER "
            "(Selenium Manager is not used, it would download one)"
        )
    profile = Path(tempfile.mkdtemp(prefix="maestro-chromium-"))
    options = webdriver.ChromeOptions()
    if setup.executable is not None:
        options.binary_location = str(setup.executable)
    for arg in chromium_args(setup.headed, profile):
        options.add_argument(arg)
    if not setup.headed:
        options.add_argument("--headless")
    # an explicit Service path is what keeps Selenium Manager out (selenium's DriverFinder)
    driver = webdriver.Chrome(service=Service(executable_path=str(setup.driver)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
