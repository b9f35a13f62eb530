"""Launching Chromium the same way for the playwright and selenium adapters, without downloading.

Which Chromium: the step's ``executable`` option, else the ``chromium`` setting
(``MAESTRO_CHROMIUM``), else Debian's ``/usr/bin/chromium`` when it exists, else Playwright's own
browser. Which chromedriver: the ``driver`` option, else the ``chromedriver`` setting, else
``/usr/bin/chromedriver``. Selenium Manager is never asked: it would try to download a driver and a
browser, which cannot work offline and must not happen behind a user's back.

Only the standard library is imported here at module level: the pytest plugin and the script runner
import this module inside the user's test process, and the adapters import it at validation time,
when playwright and selenium may not even be installed. What only the adapters need is in
:mod:`~maestro_cli.adapters.browser_steps`.
"""

from __future__ import annotations

import json
import os
import re
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

SCREENSHOT_MODES = ("on-failure", "always", "never")
TRACE_MODES = ("on-failure", "never")


@dataclass(frozen=True)
class BrowserSetup:
    """The resolved browser of one step: what the pytest plugin and the script runner launch."""

    executable: Path | None  # None: Playwright's own browser
    driver: Path | None = None  # chromedriver, for Selenium
    headed: bool = False
    timeout: float | None = None  # seconds each browser action and assertion may wait


def resolve_executable(option: str | None, settings: Mapping[str, Any]) -> Path | None:
    """The Chromium to launch (see the module docstring); None leaves the choice to Playwright."""
    return _first_path(option, settings.get("chromium"), DEBIAN_CHROMIUM)


def resolve_driver(option: str | None, settings: Mapping[str, Any]) -> Path | None:
    return _first_path(option, settings.get("chromedriver"), DEBIAN_CHROMEDRIVER)


def _first_path(option: str | None, configured: str | None, debian: Path) -> Path | None:
    """The step's option, else maestro's setting, else the Debian package's file when installed."""
    chosen = option or configured
    if chosen:
        return Path(chosen)
    return debian if debian.exists() else None


def chromium_args(user_data_dir: Path | None = None) -> list[str]:
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


def apply_playwright_timeout(setup: BrowserSetup) -> None:
    """Make ``expect(...)`` assertions wait ``setup.timeout`` (actions: see :func:`set_context_timeout`)."""
    if setup.timeout is not None:
        from playwright.sync_api import expect

        expect.set_options(timeout=setup.timeout * 1000)


def set_context_timeout(context: Any, setup: BrowserSetup) -> None:
    """Make a Playwright browser context's actions wait ``setup.timeout``."""
    if setup.timeout is not None:
        context.set_default_timeout(setup.timeout * 1000)


def offline_selenium_env(driver: Path | None) -> dict[str, str]:
    """Environment that keeps Selenium Manager from downloading anything, even in user code.

    ``SE_CHROMEDRIVER`` is the driver path Selenium's ``Service`` takes before asking Selenium
    Manager; ``SE_OFFLINE`` makes Selenium Manager fail instead of downloading if it is asked anyway.
    """
    env = {"SE_OFFLINE": "true"}
    if driver is not None:
        env["SE_CHROMEDRIVER"] = str(driver)
    return env


def selenium_options(setup: BrowserSetup, profile: Path, options: Any = None) -> Any:
    """Chrome options on ``setup``'s Chromium with maestro's flags, added to ``options`` if given.

    What the caller chose itself (a binary, a profile) is kept.
    """
    from selenium import webdriver

    options = options if options is not None else webdriver.ChromeOptions()
    if setup.executable is not None and not options.binary_location:
        options.binary_location = str(setup.executable)
    chosen = {arg.split("=", 1)[0] for arg in options.arguments}
    wanted = chromium_args(None if "--user-data-dir" in chosen else profile)
    if not setup.headed:
        wanted.append("--headless")
    for arg in wanted:
        if arg.split("=", 1)[0] not in chosen:
            options.add_argument(arg)
    return options


def selenium_service(setup: BrowserSetup) -> Any:
    """chromedriver as a Selenium ``Service``: an explicit path is what keeps Selenium Manager out."""
    from selenium.webdriver.chrome.service import Service

    if setup.driver is None:
        raise RuntimeError(
            "no chromedriver: set the selenium step's `driver` option or MAESTRO_CHROMEDRIVER "
            "(Selenium Manager is not used, it would download one)"
        )
    return Service(executable_path=str(setup.driver))


def apply_selenium_timeout(driver: WebDriver, setup: BrowserSetup) -> None:
    if setup.timeout is not None:
        driver.implicitly_wait(setup.timeout)
        driver.set_page_load_timeout(setup.timeout)


@contextmanager
def selenium_chrome(setup: BrowserSetup) -> Iterator[WebDriver]:
    """A Selenium Chrome driver on ``setup``'s Chromium and chromedriver, with a fresh profile."""
    from selenium import webdriver

    profile = Path(tempfile.mkdtemp(prefix="maestro-chromium-"))
    try:
        driver = webdriver.Chrome(service=selenium_service(setup), options=selenium_options(setup, profile))
        apply_selenium_timeout(driver, setup)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# -- the manifest: files kept for people to look at, written in the test process, read by the adapter

MANIFEST = "attachments.jsonl"  # one JSON line per kept file
SCRIPT_ERROR = "script-error.txt"  # the script runner's account of a failed script: summary line, traceback


def slug(text: str) -> str:
    """A file name for a test's evidence folder, from its node id."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "test"


def junit_names(nodeid: str) -> tuple[str, str]:
    """The (classname, name) pytest's JUnit XML gives the test with this node id."""
    path, *parts = nodeid.split("::")
    module = path.removesuffix(".py").replace("/", ".").replace("\\", ".")
    parts = [part for part in parts if part != "()"]
    return ".".join([module, *parts[:-1]]), parts[-1] if parts else path


def record(folder: Path, nodeid: str, kind: str, path: Path) -> None:
    """Append one kept file to the manifest; one short write, so parallel workers do not interleave."""
    classname, name = junit_names(nodeid)
    line = json.dumps({"nodeid": nodeid, "classname": classname, "name": name, "kind": kind, "path": str(path.resolve())})
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / MANIFEST, "a", encoding="utf-8") as stream:
        stream.write(line + os.linesep)


def recorded(folder: Path) -> list[dict[str, str]]:
    """The manifest's entries whose file exists, in the order they were kept."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return []
    entries = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line]
    return [entry for entry in entries if Path(entry["path"]).is_file()]
