"""The playwright and selenium adapters driving Debian's real Chromium against a local login app."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maestro_cli.adapters.base import StepContext, StepResult, StepSpec
from maestro_cli.adapters.playwright import PlaywrightAdapter
from maestro_cli.adapters.selenium import SeleniumAdapter

APP_DIR = Path(__file__).parent / "browser_app"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.slow


def _load_app() -> object:
    spec = importlib.util.spec_from_file_location("browser_app", APP_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    server = _load_app().make_server(0)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The user's browser tests, copied into a folder of their own as a user's repository holds them."""
    folder = tmp_path / "project"
    shutil.copytree(APP_DIR / "project", folder)
    return folder


def run_step(
    adapter: PlaywrightAdapter | SeleniumAdapter,
    project: Path,
    options: dict,
    settings: dict | None = None,
    cancel: threading.Event | None = None,
) -> tuple[StepResult, Path]:
    step = StepSpec(id="browser", adapter=adapter.name, options=options)
    assert adapter.check(step) == []
    results = project.parent / "results"
    attachments = results / "attachments" / step.id
    attachments.mkdir(parents=True)
    log = io.StringIO()
    context = StepContext(
        workdir=project,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project.parent)},
        results_dir=results,
        attachments_dir=attachments,
        log=log,
        output_file=attachments / ".outputs",
        settings=settings or {},
        cancel=cancel or threading.Event(),
    )
    result = adapter.run(step, context)
    print(log.getvalue())  # shown by pytest when a test fails
    return result, results


def outcomes(result: StepResult) -> dict[str, str]:
    return {case.name: case.outcome for case in result.cases}


def assert_png_screenshot(result: StepResult, results: Path, case_name: str) -> None:
    case = next(case for case in result.cases if case.name == case_name)
    shots = [a for a in case.attachments if a.kind == "screenshot"]
    assert len(shots) == 1, case.attachments
    assert shots[0].content_type == "image/png"
    assert (results / shots[0].path).read_bytes().startswith(PNG_MAGIC)


def test_playwright_pytest_files_report_each_case_and_keep_the_failure(project: Path, app_url: str) -> None:
    result, results = run_step(
        PlaywrightAdapter(),
        project,
        {"paths": ["test_login_playwright.py", "test_broken_playwright.py"], "base_url": app_url, "timeout": 15},
    )

    assert result.outcome == "failed"
    assert outcomes(result) == {
        "test_sign_in_greets_the_user[chromium]": "passed",
        "test_wrong_password_is_refused[chromium]": "passed",
        "test_greeting_after_sign_in[chromium]": "failed",
    }
    assert result.message == "1 of 3 tests failed: test_greeting_after_sign_in[chromium]"
    assert_png_screenshot(result, results, "test_greeting_after_sign_in[chromium]")
    broken = next(case for case in result.cases if case.outcome == "failed")
    traces = [a for a in broken.attachments if a.kind == "trace"]
    assert len(traces) == 1 and (results / traces[0].path).read_bytes().startswith(b"PK")
    assert "Hello, Ada" in (broken.details or "")
    assert all(not case.attachments for case in result.cases if case.outcome == "passed")


def test_failing_playwright_script_is_a_failed_case_with_a_screenshot(project: Path, app_url: str) -> None:
    result, results = run_step(
        PlaywrightAdapter(), project, {"script": "login_script.py", "args": ["grace"], "base_url": app_url}
    )

    assert result.outcome == "failed"
    assert result.message == "login_script.py: AssertionError: unexpected greeting 'Sign in'"
    assert result.cases[0].outcome == "failed"
    assert_png_screenshot(result, results, "login_script.py")


def test_screenshots_always_keeps_the_last_page_of_a_passing_script(project: Path, app_url: str) -> None:
    result, results = run_step(
        PlaywrightAdapter(),
        project,
        {"script": "login_script.py", "base_url": app_url, "screenshots": "always", "trace": "never"},
    )

    assert result.outcome == "passed", result.message
    [case] = result.cases
    assert [Path(a.path).name for a in case.attachments] == ["test-finished-1.png"]
    assert (results / case.attachments[0].path).read_bytes().startswith(PNG_MAGIC)


def test_selenium_reports_each_case_with_a_screenshot_of_the_failure(project: Path, app_url: str) -> None:
    result, results = run_step(
        SeleniumAdapter(), project, {"paths": ["test_login_selenium.py", "test_broken_selenium.py"], "base_url": app_url}
    )

    assert result.outcome == "failed"
    assert outcomes(result) == {
        "test_sign_in_greets_the_user": "passed",
        "test_wrong_password_is_refused": "passed",
        "test_greeting_after_sign_in": "failed",
    }
    assert_png_screenshot(result, results, "test_greeting_after_sign_in")


SLOW_SCRIPT = """
import pathlib, time
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    browser = p.chromium.launch(args=["--{marker}"])
    browser.new_page().set_content("<h1>waiting</h1>")
    pathlib.Path("browser-up").touch()
    time.sleep(120)
"""


def test_failing_selenium_script_is_a_failed_case_with_a_screenshot(project: Path, app_url: str) -> None:
    # the script builds a bare webdriver.Chrome(): maestro supplies Chromium, flags and chromedriver
    result, results = run_step(
        SeleniumAdapter(), project, {"script": "login_selenium_script.py", "args": ["babbage"], "base_url": app_url}
    )

    assert result.outcome == "failed"
    assert result.message == "login_selenium_script.py: AssertionError: unexpected greeting 'Sign in'"
    assert_png_screenshot(result, results, "login_selenium_script.py")


def test_a_cancelled_step_leaves_no_browser_behind(project: Path) -> None:
    # Playwright starts Chromium in a process group of its own, out of reach of the step's group kill
    marker = f"maestro-test-{uuid.uuid4().hex}"
    (project / "slow.py").write_text(SLOW_SCRIPT.format(marker=marker))
    cancel = threading.Event()

    def cancel_once_the_browser_is_up() -> None:
        for _ in range(600):
            if (project / "browser-up").exists():
                break
            time.sleep(0.1)
        cancel.set()

    threading.Thread(target=cancel_once_the_browser_is_up, daemon=True).start()
    result, _ = run_step(PlaywrightAdapter(), project, {"script": "slow.py"}, cancel=cancel)

    assert (project / "browser-up").exists()
    assert result.outcome == "cancelled"
    assert browsers_left(marker) == []


def browsers_left(marker: str) -> list[str]:
    """Processes with ``marker`` on their command line, once those already dying are gone."""
    for _ in range(50):
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(0.1)
    return left


def test_a_configured_chromium_that_is_missing_fails_the_step_saying_so(project: Path) -> None:
    result, _ = run_step(
        SeleniumAdapter(), project, {"paths": ["test_login_selenium.py"]}, settings={"chromium": project / "no-chromium"}
    )

    assert (result.outcome, result.message) == ("failed", f"Chromium {project / 'no-chromium'} does not exist")
