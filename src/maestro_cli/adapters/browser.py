"""Launching Chromium the same way for the playwright and selenium adapters, without downloading.

Which Chromium: the step's ``executable`` option, else the ``chromium`` setting
(``MAESTRO_CHROMIUM``), else Debian's ``/usr/bin/chromium`` when it exists, else Playwright's own
browser. Which chromedriver: the ``driver`` option, else the ``chromedriver`` setting, else
``/usr/bin/chromedriver``. Selenium Manager is never asked: it would try to download a driver and a
browser, which cannot work offline and must not happen behind a user's back.

Only the standard library and the adapter contract are imported here at module level: the pytest
plugin and the script runner import this module inside the user's test process, and the adapters
import it at validation time, when playwright and selenium may not even be installed.
"""

from __future__ import annotations

import importlib.util
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

from .base import Attachment, StepContext, StepResult, StepSpec

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
EXTRA = "browser"
INSTALL_EXTRA = f"pip install 'maestro-cli[{EXTRA}]'"


@dataclass(frozen=True)
class BrowserSetup:
    """The resolved browser of one step: what the pytest plugin and the script runner launch."""

    executable: Path | None  # None: Playwright's own browser
    driver: Path | None = None  # chromedriver, for Selenium
    headed: bool = False
    timeout: float | None = None  # seconds each browser action and assertion may wait


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
        f"adapter '{adapter}' needs {' and '.join(absent)}, not installed here: "
        f"install maestro's '{EXTRA}' extra ({INSTALL_EXTRA})"
    )


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
    for arg in chromium_args(profile):
        options.add_argument(arg)
    if not setup.headed:
        options.add_argument("--headless")
    # an explicit Service path is what keeps Selenium Manager out (selenium's DriverFinder)
    driver = webdriver.Chrome(service=Service(executable_path=str(setup.driver)), options=options)
    if setup.timeout is not None:
        driver.implicitly_wait(setup.timeout)
        driver.set_page_load_timeout(setup.timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# -- what the playwright and selenium adapters share -------------------------------------------------

PYTEST_PLUGIN = "maestro_cli.adapters.browser_pytest_plugin"
MANIFEST = "attachments.jsonl"  # one JSON line per kept file, written by the plugin and the script runner
SCRIPT_ERROR = "script-error.txt"  # the script runner's account of a failed script: summary line, traceback

# `with:` options both browser adapters take; each adds its own (script, browser, trace, driver)
COMMON_OPTIONS: dict[str, Any] = {
    "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "pytest test files or folders"},
    "args": {"type": "array", "items": {"type": "string"}, "description": "more arguments for pytest (or the script)"},
    "headed": {"type": "boolean", "description": "show the browser window (default: headless)"},
    "base_url": {"type": "string", "description": "base URL of the application: the `base_url` fixture"},
    "executable": {"type": "string", "description": "Chromium to launch (default: MAESTRO_CHROMIUM, /usr/bin/chromium)"},
    "screenshots": {"enum": list(SCREENSHOT_MODES), "description": "PNG screenshots (default on-failure)"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "seconds each browser action may wait"},
}

_CONTENT_TYPES = {"screenshot": "image/png", "trace": "application/zip", "video": "video/webm"}


def check_browser_step(step: StepSpec, modules: tuple[str, ...]) -> list[str]:
    """The problems both adapters find before anything runs: a missing extra first, alone."""
    extra = missing_extra(modules, step.adapter)
    if extra:
        return [extra]
    problems = []
    if step.run is not None:
        problems.append(f"the {step.adapter} adapter takes `with:` options, not `run:`")
    for option in ("executable", "driver"):
        value = step.options.get(option)
        # a value still holding a ${{ }} template is known only when the step runs
        missing = missing_path_problem(option, Path(value)) if isinstance(value, str) and value else None
        if missing:
            problems.append(missing)
    return problems


def step_setup(step: StepSpec, context: StepContext) -> BrowserSetup:
    options = step.options
    return BrowserSetup(
        executable=resolve_executable(options.get("executable"), context.settings),
        driver=resolve_driver(options.get("driver"), context.settings),
        headed=bool(options.get("headed", False)),
        timeout=options.get("timeout"),
    )


def evidence_folder(context: StepContext) -> Path:
    """Where one attempt's screenshots and traces go: an attempt never overwrites an earlier one's."""
    return context.attachments_dir / f"attempt-{context.attempt}"


def setup_args(step: StepSpec, setup: BrowserSetup, folder: Path) -> list[str]:
    """This step's setup as the ``--maestro-*`` options the pytest plugin and the script runner take."""
    options = step.options
    args = [f"--maestro-artifacts={folder}", f"--maestro-screenshots={options.get('screenshots', 'on-failure')}"]
    if setup.executable is not None:
        args.append(f"--maestro-chromium={setup.executable}")
    if setup.driver is not None:
        args.append(f"--maestro-chromedriver={setup.driver}")
    if setup.headed:
        args.append("--maestro-headed")
    if setup.timeout is not None:
        args.append(f"--maestro-timeout={setup.timeout}")
    if options.get("base_url"):
        args.append(f"--maestro-base-url={options['base_url']}")
    return args


def pytest_plugin_args(step: StepSpec, setup: BrowserSetup, folder: Path) -> list[str]:
    """pytest arguments that load maestro's browser plugin with this step's setup."""
    return ["-p", PYTEST_PLUGIN, *setup_args(step, setup, folder)]


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


def attach_recorded(result: StepResult, folder: Path, results_dir: Path) -> None:
    """Attach every file listed in ``folder``'s manifest to its test case (else to the step)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return
    cases = {(case.classname, case.name): case for case in result.cases}
    results_dir = results_dir.resolve()  # the manifest's paths are absolute
    for line in manifest.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        path = Path(entry["path"])
        if not path.is_file():
            continue
        attachment = Attachment(
            path=path.relative_to(results_dir).as_posix() if path.is_relative_to(results_dir) else str(path),
            kind=entry["kind"],
            content_type=_CONTENT_TYPES.get(entry["kind"]),
            description=f"{entry['kind']} of {entry['nodeid']}",
        )
        case = cases.get((entry["classname"], entry["name"]))
        (case.attachments if case is not None else result.attachments).append(attachment)
