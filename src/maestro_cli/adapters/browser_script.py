"""Run a user's plain browser script on the step's Chromium, keeping evidence of a failure.

``python -m maestro_cli.adapters.browser_script [--maestro-* options] -- SCRIPT [ARGS...]`` runs
SCRIPT as ``__main__`` after wrapping the browser library it uses (``--maestro-framework``):

- playwright: ``BrowserType.launch()`` gets the step's Chromium and maestro's flags unless the
  script chooses its own; browser contexts record a trace when traces are kept;
- selenium: ``webdriver.Chrome()`` gets the step's Chromium, flags, a fresh profile and an explicit
  chromedriver (so Selenium Manager is never asked), where the script's own options leave them open.

When the script raises (or, with ``--maestro-screenshots always``, whenever a browser closes), every
open page is saved as a PNG before the browser goes away, and each file is listed in the manifest.
"""

from __future__ import annotations

import argparse
import functools
import os
import runpy
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_cli.adapters.browser import (
    SCREENSHOT_MODES,
    SCRIPT_ERROR,
    TRACE_MODES,
    BrowserSetup,
    apply_playwright_timeout,
    apply_selenium_timeout,
    playwright_launch_options,
    record,
    selenium_options,
    selenium_service,
    set_context_timeout,
    slug,
)

FRAMEWORKS = ("playwright", "selenium")


class Evidence:
    """The browsers a script opened, and the screenshots and traces kept from them."""

    def __init__(self, script: Path, folder: Path, screenshots: str, trace: str) -> None:
        self.script = script
        self.manifest_folder = folder
        self.folder = folder / slug(script.name)
        self.screenshots = screenshots
        self.trace = trace
        self.browsers: list[Any] = []  # Playwright browsers
        self.drivers: list[Any] = []  # Selenium drivers not quit yet
        self.profiles: list[Path] = []  # fresh Chromium profiles to remove at the end
        self._counts: dict[str, int] = {}

    def _next_path(self, stem: str, suffix: str) -> Path:
        self._counts[stem] = self._counts.get(stem, 0) + 1
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{stem}-{self._counts[stem]}{suffix}"

    def _keep_file(self, kind: str, stem: str, suffix: str, save: Callable[[Path], None], what: str) -> None:
        path = self._next_path(stem, suffix)
        try:
            save(path)
        except Exception as exc:  # a crashed page must not hide the script's own error
            print(f"maestro: no {kind} of {what}: {exc}", file=sys.stderr)
            return
        record(self.manifest_folder, str(self.script), kind, path)

    def _screenshot(self, failed: bool, save: Callable[[Path], None], what: str) -> None:
        if self.screenshots == "always" or (failed and self.screenshots == "on-failure"):
            self._keep_file("screenshot", "test-failed" if failed else "test-finished", ".png", save, what)

    def keep_browser(self, browser: Any, failed: bool) -> None:
        """Save what a Playwright browser shows (and its traces) before it goes away."""
        if not browser.is_connected():
            return
        for context in browser.contexts:
            for page in context.pages:
                self._screenshot(failed, lambda path, page=page: page.screenshot(path=str(path), timeout=5000), page.url)
            if getattr(context, "_maestro_tracing", False):
                context._maestro_tracing = False
                if failed:
                    self._keep_file("trace", "trace", ".zip", lambda path, c=context: c.tracing.stop(path=str(path)), "the browser context")
                else:
                    context.tracing.stop()

    def keep_driver(self, driver: Any, failed: bool) -> None:
        """Save what a Selenium driver shows before it quits."""
        self._screenshot(failed, lambda path: path.write_bytes(driver.get_screenshot_as_png()), "the Selenium browser")

    def keep_all(self, failed: bool) -> None:
        for browser in self.browsers:
            self.keep_browser(browser, failed)
        for driver in self.drivers:
            self.keep_driver(driver, failed)


def _wrap(cls: type, name: str, around: Callable[..., Any]) -> None:
    """Replace ``cls.name`` by ``around(original, self, *args, **kwargs)``."""
    original = getattr(cls, name)
    setattr(cls, name, functools.wraps(original)(lambda *args, **kwargs: around(original, *args, **kwargs)))


def _failing() -> bool:
    # true inside the script's `finally:` or `with` exit while its exception propagates
    return sys.exc_info()[0] is not None


def instrument_playwright(evidence: Evidence, setup: BrowserSetup) -> None:
    """Wrap Playwright's sync API so that launches use ``setup`` and evidence survives a failure."""
    from playwright.sync_api import Browser, BrowserType
    from playwright.sync_api._context_manager import PlaywrightContextManager

    apply_playwright_timeout(setup)

    def launch(original: Callable[..., Any], browser_type: Any, **kwargs: Any) -> Any:
        defaults = playwright_launch_options(setup, browser_type.name)
        kwargs["args"] = [*defaults.pop("args", []), *(kwargs.get("args") or [])]
        browser = original(browser_type, **{**defaults, **kwargs})
        evidence.browsers.append(browser)
        return browser

    def traced(original: Callable[..., Any], browser: Any, *args: Any, **kwargs: Any) -> Any:
        made = original(browser, *args, **kwargs)
        context = getattr(made, "context", made)  # new_page returns a page in a context of its own
        set_context_timeout(context, setup)
        if evidence.trace == "on-failure" and not getattr(context, "_maestro_tracing", False):
            context.tracing.start(screenshots=True, snapshots=True, sources=True)
            context._maestro_tracing = True
        return made

    def close(original: Callable[..., Any], browser: Any, *args: Any, **kwargs: Any) -> Any:
        evidence.keep_browser(browser, failed=_failing())
        return original(browser, *args, **kwargs)

    def exit_playwright(original: Callable[..., Any], manager: Any, *exc: Any) -> Any:
        evidence.keep_all(failed=exc[0] is not None)
        return original(manager, *exc)

    _wrap(BrowserType, "launch", launch)
    _wrap(Browser, "new_context", traced)
    _wrap(Browser, "new_page", traced)
    _wrap(Browser, "close", close)
    _wrap(PlaywrightContextManager, "__exit__", exit_playwright)


def instrument_selenium(evidence: Evidence, setup: BrowserSetup) -> None:
    """Wrap ``webdriver.Chrome`` so that it starts on ``setup`` and evidence survives a failure."""
    from selenium.webdriver import Chrome

    def init(original: Callable[..., Any], driver: Any, options: Any = None, service: Any = None, keep_alive: bool = True) -> None:
        profile = Path(tempfile.mkdtemp(prefix="maestro-chromium-"))
        evidence.profiles.append(profile)
        original(driver, options=selenium_options(setup, profile, options), service=service or selenium_service(setup), keep_alive=keep_alive)
        apply_selenium_timeout(driver, setup)
        evidence.drivers.append(driver)

    def quit_driver(original: Callable[..., Any], driver: Any) -> None:
        if driver in evidence.drivers:
            evidence.drivers.remove(driver)
            evidence.keep_driver(driver, failed=_failing())
        original(driver)

    _wrap(Chrome, "__init__", init)
    _wrap(Chrome, "quit", quit_driver)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maestro_cli.adapters.browser_script", description=__doc__)
    # the pytest plugin's options (see browser_steps.setup_args), the library, and the trace to keep
    parser.add_argument("--maestro-chromium", type=Path, default=None)
    parser.add_argument("--maestro-chromedriver", type=Path, default=None)
    parser.add_argument("--maestro-headed", action="store_true")
    parser.add_argument("--maestro-artifacts", type=Path, required=True)
    parser.add_argument("--maestro-screenshots", choices=SCREENSHOT_MODES, default="on-failure")
    parser.add_argument("--maestro-timeout", type=float, default=None)
    parser.add_argument("--maestro-base-url", default=None, help="given to the script as $MAESTRO_BASE_URL")
    parser.add_argument("--maestro-framework", choices=FRAMEWORKS, required=True)
    parser.add_argument("--maestro-trace", choices=TRACE_MODES, default="never")
    parser.add_argument("script", type=Path)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    evidence = Evidence(options.script, options.maestro_artifacts, options.maestro_screenshots, options.maestro_trace)
    setup = BrowserSetup(
        executable=options.maestro_chromium,
        driver=options.maestro_chromedriver,
        headed=options.maestro_headed,
        timeout=options.maestro_timeout,
    )
    if options.maestro_base_url:
        os.environ["MAESTRO_BASE_URL"] = options.maestro_base_url
    instrument = instrument_playwright if options.maestro_framework == "playwright" else instrument_selenium
    instrument(evidence, setup)
    sys.argv = [str(options.script), *options.args]
    sys.path.insert(0, str(options.script.parent.resolve()))
    try:
        runpy.run_path(str(options.script), run_name="__main__")
    except SystemExit as exc:
        evidence.keep_all(failed=exc.code not in (None, 0))
        raise
    except BaseException as exc:
        evidence.keep_all(failed=True)
        summary = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        options.maestro_artifacts.mkdir(parents=True, exist_ok=True)
        (options.maestro_artifacts / SCRIPT_ERROR).write_text(summary + "\n" + traceback.format_exc(), encoding="utf-8")
        raise
    else:
        evidence.keep_all(failed=False)
    finally:
        for profile in evidence.profiles:
            shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
