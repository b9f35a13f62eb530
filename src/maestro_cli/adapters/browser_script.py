"""Run a user's plain ``playwright.sync_api`` script on the step's Chromium, keeping failure evidence.

``python -m maestro_cli.adapters.browser_script [--maestro-* options] -- SCRIPT [ARGS...]`` runs
SCRIPT as ``__main__``. Its ``BrowserType.launch()`` calls get the step's Chromium and maestro's flags when
they do not choose their own; its browser contexts record a trace when traces are kept. When the
script raises (or, with ``--maestro-screenshots always``, whenever a browser closes), every open page is
saved as a PNG before Playwright shuts down, and each file is listed in the attachments manifest.
"""

from __future__ import annotations

import argparse
import functools
import os
import runpy
import sys
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
    playwright_launch_options,
    record,
    set_context_timeout,
    slug,
)

class Evidence:
    """The browsers a script launched, and the screenshots and traces kept from them."""

    def __init__(self, script: Path, folder: Path, screenshots: str, trace: str) -> None:
        self.script = script
        self.folder = folder / slug(script.name)
        self.screenshots = screenshots
        self.trace = trace
        self.browsers: list[Any] = []
        self._counts: dict[str, int] = {}

    def _next_path(self, stem: str, suffix: str) -> Path:
        self._counts[stem] = self._counts.get(stem, 0) + 1
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{stem}-{self._counts[stem]}{suffix}"

    def keep(self, browser: Any, failed: bool) -> None:
        """Save what the browser shows (and its traces) before it goes away."""
        if not browser.is_connected():
            return
        for context in browser.contexts:
            if self.screenshots == "always" or (failed and self.screenshots == "on-failure"):
                for page in context.pages:
                    path = self._next_path("test-failed" if failed else "test-finished", ".png")
                    try:
                        page.screenshot(path=str(path), timeout=5000)
                    except Exception as exc:  # a crashed page must not hide the script's own error
                        print(f"maestro: no screenshot of {page.url}: {exc}", file=sys.stderr)
                        continue
                    record(self.folder.parent, str(self.script), "screenshot", path)
            if self.trace == "on-failure" and getattr(context, "_maestro_tracing", False):
                context._maestro_tracing = False
                path = self._next_path("trace", ".zip") if failed else None
                context.tracing.stop(path=str(path) if path else None)
                if path is not None:
                    record(self.folder.parent, str(self.script), "trace", path)

    def keep_all(self, failed: bool) -> None:
        for browser in self.browsers:
            self.keep(browser, failed)


def instrument(evidence: Evidence, setup: BrowserSetup) -> None:
    """Wrap Playwright's sync API so that launches use ``setup`` and evidence survives a failure."""
    from playwright.sync_api import Browser, BrowserType
    from playwright.sync_api._context_manager import PlaywrightContextManager

    def wrap(cls: type, name: str, around: Callable[..., Any]) -> None:
        original = getattr(cls, name)
        setattr(cls, name, functools.wraps(original)(lambda *args, **kwargs: around(original, *args, **kwargs)))

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
        # called from the script's `finally:` or `with` block while its exception propagates
        evidence.keep(browser, failed=sys.exc_info()[0] is not None)
        return original(browser, *args, **kwargs)

    def exit_playwright(original: Callable[..., Any], manager: Any, *exc: Any) -> Any:
        evidence.keep_all(failed=exc[0] is not None)
        return original(manager, *exc)

    wrap(BrowserType, "launch", launch)
    wrap(Browser, "new_context", traced)
    wrap(Browser, "new_page", traced)
    wrap(Browser, "close", close)
    wrap(PlaywrightContextManager, "__exit__", exit_playwright)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maestro_cli.adapters.browser_script", description=__doc__)
    # the pytest plugin's options (see browser.setup_args), and the trace a script keeps
    parser.add_argument("--maestro-chromium", type=Path, default=None)
    parser.add_argument("--maestro-headed", action="store_true")
    parser.add_argument("--maestro-artifacts", type=Path, required=True)
    parser.add_argument("--maestro-screenshots", choices=SCREENSHOT_MODES, default="on-failure")
    parser.add_argument("--maestro-timeout", type=float, default=None)
    parser.add_argument("--maestro-base-url", default=None, help="given to the script as $MAESTRO_BASE_URL")
    parser.add_argument("--maestro-trace", choices=TRACE_MODES, default="on-failure")
    parser.add_argument("script", type=Path)
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    evidence = Evidence(options.script, options.maestro_artifacts, options.maestro_screenshots, options.maestro_trace)
    setup = BrowserSetup(executable=options.maestro_chromium, headed=options.maestro_headed, timeout=options.maestro_timeout)
    if options.maestro_base_url:
        os.environ["MAESTRO_BASE_URL"] = options.maestro_base_url
    apply_playwright_timeout(setup)
    instrument(evidence, setup)
    sys.argv = [str(options.script), *options.args]
    sys.path.insert(0, str(options.script.parent.resolve()))
    try:
        runpy.run_path(str(options.script), run_name="__main__")
    except SystemExit as exc:
        failed = exc.code not in (None, 0)
        evidence.keep_all(failed=failed)
        raise
    except BaseException as exc:
        evidence.keep_all(failed=True)
        summary = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        options.maestro_artifacts.mkdir(parents=True, exist_ok=True)
        (options.maestro_artifacts / SCRIPT_ERROR).write_text(summary + "\n" + traceback.format_exc(), encoding="utf-8")
        raise
    evidence.keep_all(failed=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
