"""`maestro run-plan` with browser steps: a plan starts a login app, Playwright and Selenium sign in."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

MAESTRO = Path(sys.executable).parent / "maestro"
APP_DIR = Path(__file__).parent.parent / "adapters" / "browser_app"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

PLAN = """\
version: 1
name: sign-in
env: {{APP_URL: "http://127.0.0.1:{port}"}}
services:
  app:
    run: {python} app.py --port {port}
    health: {{http: "http://127.0.0.1:{port}/health", timeout: 20}}
steps:
  - id: playwright-sign-in
    adapter: playwright
    with: {{script: login_script.py, base_url: "${{{{ env.APP_URL }}}}", timeout: 10}}
    services: [app]
  - id: selenium-sign-in
    adapter: selenium
    with:
      paths: [test_login_selenium.py, test_broken_selenium.py]
      base_url: "${{{{ env.APP_URL }}}}"
    services: [app]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    """A user's repository: the app, its browser tests and a plan that runs them."""
    shutil.copytree(APP_DIR / "project", tmp_path, dirs_exist_ok=True)
    shutil.copy(APP_DIR / "app.py", tmp_path)
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(port=free_port(), python=sys.executable))
    return path


@pytest.mark.slow
def test_plan_signs_in_with_both_browsers_and_keeps_a_png_of_the_failure(plan: Path) -> None:
    completed = subprocess.run(
        [MAESTRO, "run-plan", plan.name, "--results", "results"], cwd=plan.parent, capture_output=True, text=True
    )

    assert completed.returncode == 1, completed.stderr
    results = plan.parent / "results"
    report = json.loads((results / "results.json").read_text())
    steps = {step["id"]: step for step in report["steps"]}
    assert {name: step["outcome"] for name, step in steps.items()} == {
        "playwright-sign-in": "passed",
        "selenium-sign-in": "failed",
    }
    assert [(c["name"], c["outcome"]) for c in steps["playwright-sign-in"]["cases"]] == [("login_script.py", "passed")]
    cases = {case["name"]: case for case in steps["selenium-sign-in"]["cases"]}
    assert {name: case["outcome"] for name, case in cases.items()} == {
        "test_sign_in_greets_the_user": "passed",
        "test_wrong_password_is_refused": "passed",
        "test_greeting_after_sign_in": "failed",
    }
    [screenshot] = cases["test_greeting_after_sign_in"]["attachments"]
    assert screenshot["kind"] == "screenshot" and screenshot["content_type"] == "image/png"
    assert not Path(screenshot["path"]).is_absolute()
    assert (results / screenshot["path"]).read_bytes().startswith(PNG_MAGIC)
    assert steps["selenium-sign-in"]["message"] == "1 of 3 tests failed: test_greeting_after_sign_in"

    # maestro report's HTML shows the screenshot next to the failure
    subprocess.run(
        [MAESTRO, "report", "results/results.json", "--format", "html", "--output", "report.html"],
        cwd=plan.parent, capture_output=True, check=False,
    )
    assert f'<img src="results/{screenshot["path"]}"' in (plan.parent / "report.html").read_text()


def test_without_the_browser_extra_the_plan_is_refused_naming_it(plan: Path, tmp_path: Path) -> None:
    # a Python where playwright and selenium cannot be imported, as without `pip install maestro-cli[browser]`
    blocker = tmp_path / "no-browser-extra"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in ('playwright', 'pytest_playwright', 'selenium'):\n    sys.modules[name] = None\n"
    )
    completed = subprocess.run(
        [MAESTRO, "run-plan", plan.name, "--results", "results"],
        cwd=plan.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(blocker)},
    )

    assert completed.returncode == 2
    hint = "not installed here: install maestro's 'browser' extra (pip install 'maestro-cli[browser]')"
    assert completed.stderr.splitlines() == [
        f"error: plan.yaml:9:9: steps[0]: adapter 'playwright' needs playwright, {hint}",
        f"error: plan.yaml:13:9: steps[1]: adapter 'selenium' needs selenium, {hint}",
    ]
    assert not (plan.parent / "results").exists()  # nothing ran
