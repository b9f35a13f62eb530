"""The playwright and selenium adapters driving Debian's real Chromium against a local login app."""

from __future__ import annotations

import importlib.util
import io
import shutil
import threading
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


def run_step(adapter: PlaywrightAdapter | SeleniumAdapter, project: Path, options: dict) -> tuple[StepResult, Path]:
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
        {"paths": ["test_login_playwright.py", "test_broken_playwright.py"], "base_url": app_url, "timeout": 5},
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
