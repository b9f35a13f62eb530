"""Which browser the adapters launch, and what validation says before anything launches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maestro_cli.adapters.base import StepSpec
from maestro_cli.adapters.browser import DEBIAN_CHROMIUM, resolve_driver, resolve_executable
from maestro_cli.adapters.playwright import PlaywrightAdapter
from maestro_cli.adapters.selenium import SeleniumAdapter


def test_the_step_option_beats_the_setting_which_beats_debian_chromium(tmp_path: Path) -> None:
    setting = {"chromium": tmp_path / "configured"}

    assert resolve_executable(str(tmp_path / "option"), setting) == tmp_path / "option"
    assert resolve_executable(None, setting) == tmp_path / "configured"
    assert resolve_executable(None, {"chromium": None}) == (DEBIAN_CHROMIUM if DEBIAN_CHROMIUM.exists() else None)
    assert resolve_driver(None, {"chromedriver": tmp_path / "driver"}) == tmp_path / "driver"


@pytest.mark.parametrize(
    ("adapter", "options", "problem"),
    [
        (PlaywrightAdapter(), {}, "the playwright adapter needs exactly one of `script` or `paths`"),
        (PlaywrightAdapter(), {"script": "a.py", "paths": ["t"]}, "the playwright adapter needs exactly one of `script` or `paths`"),
        (PlaywrightAdapter(), {"paths": ["t"], "executable": "/nowhere/chromium"}, "executable /nowhere/chromium does not exist"),
        (PlaywrightAdapter(), {"paths": ["t"], "browser": "firefox", "executable": sys.executable}, "`executable` applies to chromium only"),
        (PlaywrightAdapter(), {"script": "a.py", "browser": "webkit"}, "`browser` applies to `paths`: a script launches the browser it chooses"),
        (SeleniumAdapter(), {"paths": ["t"], "driver": "/nowhere/chromedriver"}, "driver /nowhere/chromedriver does not exist"),
        (SeleniumAdapter(), {"script": "a.py", "paths": ["t"]}, "the selenium adapter needs exactly one of `script` or `paths`"),
    ],
)
def test_check_names_each_problem(adapter: PlaywrightAdapter | SeleniumAdapter, options: dict, problem: str) -> None:
    assert adapter.check(StepSpec(id="ui", adapter=adapter.name, options=options)) == [problem]


def test_run_is_refused_for_a_browser_step() -> None:
    step = StepSpec(id="ui", adapter="selenium", options={"paths": ["t"]}, run="pytest")
    assert SeleniumAdapter().check(step) == ["the selenium adapter takes `with:` options, not `run:`"]


# A Python without the `browser` extra: the modules are marked absent before anything imports them.
WITHOUT_EXTRA = """
import sys
for name in ("playwright", "pytest_playwright", "selenium"):
    sys.modules[name] = None
from maestro_cli.adapters.base import StepSpec
from maestro_cli.adapters.playwright import PlaywrightAdapter
from maestro_cli.adapters.selenium import SeleniumAdapter
for adapter, options in ((PlaywrightAdapter(), {"script": "a.py"}), (SeleniumAdapter(), {"paths": ["t"]})):
    print(*adapter.check(StepSpec(id="ui", adapter=adapter.name, options=options)), sep="\\n")
"""


def test_without_the_browser_extra_check_names_the_extra() -> None:
    completed = subprocess.run([sys.executable, "-c", WITHOUT_EXTRA], capture_output=True, text=True, check=True)

    assert completed.stdout.splitlines() == [
        "adapter 'playwright' needs playwright, not installed here: "
        "install maestro's 'browser' extra (pip install 'maestro-cli[browser]')",
        "adapter 'selenium' needs selenium, not installed here: "
        "install maestro's 'browser' extra (pip install 'maestro-cli[browser]')",
    ]
