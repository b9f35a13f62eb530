from __future__ import annotations

import os
from pathlib import Path

from maestro_cli.extract.layout import conftests_for, walk_files


def test_links_that_loop_are_not_followed(tmp_path: Path) -> None:
    package = tmp_path / "repo" / "config"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    os.symlink("..", package / "up")
    os.symlink("self", package / "self")
    warnings: list[str] = []
    assert list(walk_files(package, tmp_path / "repo", warnings)) == [package / "__init__.py"]
    assert warnings == [
        "config/self: link that cannot be resolved (a loop?), not followed",
        f"config/up: link back to {tmp_path / 'repo'}, a folder it is inside, not followed",
    ]


def test_the_repo_root_conftest_lands_at_the_package_root_beside_the_tests_one(tmp_path: Path) -> None:
    test = tmp_path / "tests" / "shared" / "test_retry.py"
    test.parent.mkdir(parents=True)
    for conftest in (tmp_path / "conftest.py", tmp_path / "tests" / "conftest.py", tmp_path / "tests" / "shared" / "conftest.py"):
        conftest.write_text("")
    assert [destination for _, destination in conftests_for(test, tmp_path)] == [
        "tests/shared/conftest.py", "tests/conftest.py", "conftest.py",
    ]
