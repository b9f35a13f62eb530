"""pytest plugin the browser adapters load into a user's test run with ``-p``.

- With pytest-playwright: launches its browser on the step's Chromium, with maestro's flags
  (pytest-playwright itself takes the screenshots and traces; this plugin records where they are).
- For Selenium: a ``driver`` fixture, a Chrome driver on the step's Chromium and chromedriver with a
  fresh profile, and a PNG screenshot of a failed test taken before the driver quits.
- ``base_url``: the step's ``base_url`` option, through pytest-playwright's or pytest-base-url's own
  option when one is installed, else through a fixture of the same name.

Every kept file is appended as one JSON line to ``<artifacts>/attachments.jsonl`` with the test's
node id and JUnit names, so the adapter attaches it to the right test case.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from maestro_cli.adapters.browser import (
    SCREENSHOT_MODES,
    BrowserSetup,
    apply_playwright_timeout,
    playwright_launch_options,
    record,
    selenium_chrome,
    set_context_timeout,
    slug,
)

# pytest-playwright puts the kept files' paths on the teardown report under these property names
_PLAYWRIGHT_PROPERTIES = {"playwright_screenshot": "screenshot", "playwright_trace": "trace", "playwright_video": "video"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("maestro", "maestro browser adapters")
    group.addoption("--maestro-chromium", default=None, help="Chromium executable (default: Playwright's own).")
    group.addoption("--maestro-chromedriver", default=None, help="chromedriver for the driver fixture.")
    group.addoption("--maestro-headed", action="store_true", default=False, help="Show the browser window.")
    group.addoption("--maestro-artifacts", default=None, help="Folder for screenshots and the attachments manifest.")
    group.addoption("--maestro-screenshots", default="on-failure", choices=SCREENSHOT_MODES, help="Selenium screenshots.")
    group.addoption("--maestro-base-url", default=None, help="Base URL of the application under test.")
    group.addoption("--maestro-timeout", type=float, default=None, help="Seconds a browser action may wait.")


def pytest_configure(config: pytest.Config) -> None:
    base_url = config.getoption("--maestro-base-url")
    if base_url and hasattr(config.option, "base_url"):
        config.option.base_url = config.option.base_url or base_url
    # Registered now, after pytest-playwright's entry point: a plugin's fixture loses to one registered
    # later under the same name, and requesting its own name reaches the one it overrides.
    # pytest reads fixtures off a plugin's type, so the holder is a module rather than an instance.
    if config.pluginmanager.hasplugin("playwright"):
        late = ModuleType("maestro_browser_launch")
        late.browser_type_launch_args = _launch_args  # type: ignore[attr-defined]
        late.context = _context_with_timeout  # type: ignore[attr-defined]
        config.pluginmanager.register(late, "maestro-browser-launch")
        apply_playwright_timeout(_setup(config))


def _setup(config: pytest.Config) -> BrowserSetup:
    chromium = config.getoption("--maestro-chromium")
    driver = config.getoption("--maestro-chromedriver")
    return BrowserSetup(
        executable=Path(chromium) if chromium else None,
        driver=Path(driver) if driver else None,
        headed=config.getoption("--maestro-headed"),
        timeout=config.getoption("--maestro-timeout"),
    )


@pytest.fixture(scope="session", name="browser_type_launch_args")
def _launch_args(
    browser_type_launch_args: dict[str, Any], browser_name: str, pytestconfig: pytest.Config
) -> dict[str, Any]:
    """pytest-playwright's launch arguments, on the step's Chromium with maestro's flags."""
    setup = _setup(pytestconfig)
    ours = playwright_launch_options(setup, browser_name)
    if not setup.headed:
        ours.pop("headless")  # pytest-playwright's default, or a --headed the user passed, decides
    return {**browser_type_launch_args, **ours}


@pytest.fixture(name="context")
def _context_with_timeout(context: Any, pytestconfig: pytest.Config) -> Any:
    """pytest-playwright's browser context, its actions waiting the step's ``timeout``."""
    set_context_timeout(context, _setup(pytestconfig))
    return context


@pytest.fixture
def driver(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A Selenium WebDriver on Chromium with a fresh profile, quit after the test."""
    with selenium_chrome(_setup(pytestconfig)) as web_driver:
        yield web_driver


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """The step's base URL; pytest-playwright's or pytest-base-url's fixture wins when installed."""
    return pytestconfig.getoption("--maestro-base-url")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    config = item.config
    folder = config.getoption("--maestro-artifacts")
    if folder is None:
        return
    if report.when == "call" or (report.when == "setup" and report.failed):  # a fixture using the driver failed
        _screenshot_selenium(item, report, Path(folder), config.getoption("--maestro-screenshots"))
    elif report.when == "teardown":
        base = Path(config.invocation_params.dir)
        for name, value in report.user_properties:
            if name in _PLAYWRIGHT_PROPERTIES:
                record(Path(folder), item.nodeid, _PLAYWRIGHT_PROPERTIES[name], base / str(value))


def _screenshot_selenium(item: pytest.Item, report: pytest.TestReport, folder: Path, mode: str) -> None:
    web_driver = getattr(item, "funcargs", {}).get("driver")
    wanted = mode == "always" or (mode == "on-failure" and report.failed)
    if web_driver is None or not wanted or not hasattr(web_driver, "get_screenshot_as_png"):
        return
    path = folder / slug(item.nodeid) / ("test-failed.png" if report.failed else "test-finished.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_bytes(web_driver.get_screenshot_as_png())
    except Exception as exc:  # a crashed browser must not hide the test's own failure
        report.sections.append(("maestro screenshot", f"no screenshot: {exc}"))
        return
    record(folder, item.nodeid, "screenshot", path)
