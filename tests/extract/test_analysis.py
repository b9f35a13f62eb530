from __future__ import annotations

from pathlib import Path

import pytest

from maestro_cli.extract import scan
from maestro_cli.extract.analysis import ImportContext, ImportKind, analyse_modules

GUARDED = '''\
import os
import yaml
from . import sibling
from ..other import thing
from shared.resilience import retry
from shared import config
try:
    import simplejson as json
except ImportError:
    import json
try:
    import ujson
except ImportError:
    ujson = None
else:
    import ujson.extra
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import numpy
importlib.import_module("plugins.csv")
def later():
    if True:
        return __import__("plugins.xml")  # import_module( in a comment is not a call
'''


def analyse_one(tmp_path: Path, text: str, module: str = "shared.resilience.retry", **kwargs: object) -> list:
    path = tmp_path / "module.py"
    path.write_text(text)
    context = ImportContext("shared.resilience", frozenset({"shared", "billing"}))
    [result] = analyse_modules({path: module}, context, root=tmp_path, **kwargs)  # type: ignore[arg-type]
    return result


def test_each_import_is_classified_with_its_guard_and_line(tmp_path: Path) -> None:
    result = analyse_one(tmp_path, GUARDED)
    seen = {(r.module, r.line): r for r in result.imports}
    assert seen["os", 1].kind is ImportKind.STDLIB
    assert seen["yaml", 2].kind is ImportKind.THIRD_PARTY and not seen["yaml", 2].optional
    assert seen["shared.resilience", 3].kind is ImportKind.INTERNAL and seen["shared.resilience", 3].relative
    assert seen["shared.other", 4].kind is ImportKind.LEGACY  # a relative import climbing out of SOURCE
    assert seen["shared.resilience", 5].kind is ImportKind.INTERNAL
    assert seen["shared", 6].kind is ImportKind.LEGACY and seen["shared", 6].names == ("config",)
    assert seen["simplejson", 8].optional and seen["simplejson", 8].guard_line == 7
    assert seen["json", 10].fallback and seen["json", 10].guard_line == 7
    assert seen["ujson.extra", 16].optional  # a try's else: follows the guarded import
    assert seen["numpy", 19].type_checking
    assert [(d.module, d.line) for d in result.dynamic] == [("plugins.csv", 20), ("plugins.xml", 23)]
    assert result.file == "module.py"


def test_from_the_parent_package_into_source_is_internal(tmp_path: Path) -> None:
    result = analyse_one(tmp_path, "from shared import resilience, config\n", module="billing.invoices")
    kinds = {(r.module, r.kind) for r in result.imports}
    assert kinds == {("shared.resilience", ImportKind.INTERNAL), ("shared", ImportKind.LEGACY)}


def test_a_nested_local_file_never_hides_a_third_party_name(tmp_path: Path) -> None:
    # pipreqs drops jinja2 because django/template/backends/jinja2.py exists; only top-level names count
    (tmp_path / "backends").mkdir()
    (tmp_path / "backends" / "jinja2.py").write_text("")
    result = analyse_one(tmp_path, "import jinja2\nimport redis.client\n")
    assert {r.module: r.kind for r in result.imports} == {"jinja2": ImportKind.THIRD_PARTY, "redis.client": ImportKind.THIRD_PARTY}


def test_python_2_is_a_parse_failure_with_its_position(tmp_path: Path) -> None:
    result = analyse_one(tmp_path, "import os\nprint 'hello'\n")
    assert result.error is not None
    assert (result.error.file, result.error.line, result.error.column) == ("module.py", 2, 1)
    assert "print" in result.error.message


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("x = 1\n", (3, 0)),
        ("def f(a, /): pass\n", (3, 8)),
        ("match x:\n    case 1:\n        pass\n", (3, 10)),
        ("try:\n    pass\nexcept* ValueError:\n    pass\n", (3, 11)),
    ],
)
def test_newest_syntax_sets_the_minimum_python(tmp_path: Path, text: str, version: tuple[int, int]) -> None:
    assert analyse_one(tmp_path, text).min_python == version


def test_a_warm_run_reads_every_scan_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = analyse_one(tmp_path, GUARDED, cache_dir=tmp_path / "cache")

    def no_parsing(data: bytes) -> None:
        raise AssertionError("parsed again although the content is cached")

    monkeypatch.setattr(scan, "scan_source", no_parsing)
    assert analyse_one(tmp_path, GUARDED, cache_dir=tmp_path / "cache") == cold


def test_two_processes_give_what_one_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {}
    for number in range(12):
        path = tmp_path / f"m{number}.py"
        path.write_text(GUARDED * (number + 1))
        files[path] = f"pkg.m{number}"
    context = ImportContext("pkg", frozenset({"shared"}))
    alone = analyse_modules(files, context, jobs=1)
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD_BYTES", 0)
    assert analyse_modules(files, context, jobs=2) == alone
