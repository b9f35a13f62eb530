from __future__ import annotations

from pathlib import Path

from maestro_cli.extract.analysis import ImportContext, analyse_modules
from maestro_cli.extract.declared import Declared
from maestro_cli.extract.distributions import DistributionResolver
from maestro_cli.extract.inference import Requirements, infer_requirements

ENVIRONMENT = {
    "yaml": ["PyYAML"], "simplejson": ["simplejson"], "ujson": ["ujson"], "requests": ["requests"],
    "lxml": ["lxml"], "regex": ["regex"], "numpy": ["numpy"], "shared_ns": ["ns-a", "ns-b"],
}


def infer(tmp_path: Path, code: str, tests: str = "", declared: Declared | None = None) -> Requirements:
    (tmp_path / "code.py").write_text(code)
    (tmp_path / "test_code.py").write_text(tests)
    context = ImportContext("pkg", frozenset())
    [module] = analyse_modules({tmp_path / "code.py": "pkg.code"}, context, root=tmp_path)
    [test] = analyse_modules({tmp_path / "test_code.py": "tests.test_code"}, context, root=tmp_path)
    resolver = DistributionResolver(environment=ENVIRONMENT, table={}, ambiguous={})
    return infer_requirements([module], [test], declared or Declared(), resolver)


def test_a_standard_library_alternative_needs_nothing(tmp_path: Path) -> None:
    needs = infer(tmp_path, "try:\n    import simplejson as json\nexcept ImportError:\n    import json\n")
    assert (needs.dependencies, needs.optional_dependencies) == ([], {})


def test_a_guard_without_alternative_is_an_extra_named_after_the_distribution(tmp_path: Path) -> None:
    needs = infer(tmp_path, "try:\n    import yaml\nexcept ModuleNotFoundError:\n    yaml = None\n")
    assert (needs.dependencies, needs.optional_dependencies) == ([], {"pyyaml": ["PyYAML"]})


def test_a_third_party_fallback_is_hard_and_the_preferred_one_an_extra(tmp_path: Path) -> None:
    needs = infer(tmp_path, "try:\n    import lxml.etree as etree\nexcept (ImportError, AttributeError):\n    import regex as etree\n")
    assert (needs.dependencies, needs.optional_dependencies) == (["regex"], {"lxml": ["lxml"]})


def test_an_unconditional_import_elsewhere_makes_it_hard(tmp_path: Path) -> None:
    needs = infer(tmp_path, "import ujson\ntry:\n    import ujson\nexcept ImportError:\n    pass\n")
    assert (needs.dependencies, needs.optional_dependencies) == (["ujson"], {})


def test_a_repo_declared_hard_requirement_stays_hard_with_its_pin(tmp_path: Path) -> None:
    declared = Declared(requirements={"pyyaml": "PyYAML>=5.4,<7"}, hard={"pyyaml"})
    needs = infer(tmp_path, "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n", declared=declared)
    assert needs.dependencies == ["PyYAML<7,>=5.4"]
    assert needs.optional_dependencies == {}


def test_former_stdlib_platform_only_and_type_checking_imports_are_not_dependencies(tmp_path: Path) -> None:
    code = "import imp, asynchat, dummy_threading, winreg, msvcrt, urllib2, __main__\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n"
    needs = infer(tmp_path, code)
    assert (needs.dependencies, needs.optional_dependencies) == ([], {})


def test_ambiguous_modules_are_reported_not_added(tmp_path: Path) -> None:
    needs = infer(tmp_path, "import os\nimport shared_ns.tools\n")
    assert needs.dependencies == []
    assert [(a.module, a.candidates, a.where) for a in needs.ambiguous] == [("shared_ns.tools", ("ns-a", "ns-b"), "code.py:2")]


def test_tests_need_pytest_their_own_imports_and_the_declared_plugins(tmp_path: Path) -> None:
    declared = Declared(requirements={"pytest-httpbin": "pytest-httpbin==2.1.0", "pytest": "pytest>=7"})
    needs = infer(tmp_path, "import yaml\n", tests="import yaml\nimport requests\n", declared=declared)
    assert needs.test_dependencies == ["pytest>=7", "pytest-httpbin==2.1.0", "requests"]


def test_requires_python_follows_the_syntax_unless_declared(tmp_path: Path) -> None:
    assert infer(tmp_path, "match x:\n    case _:\n        pass\n").requires_python == ">=3.10"
    assert infer(tmp_path, "x = 1\n").requires_python == ">=3.8"
    assert infer(tmp_path, "x = 1\n", declared=Declared(requires_python=">=3.9")).requires_python == ">=3.9"


def test_dynamic_imports_are_warnings_with_their_place(tmp_path: Path) -> None:
    needs = infer(tmp_path, "import importlib\nplugin = importlib.import_module('acme_plugins.csv')\n__import__('pickle')\n")
    assert needs.warnings == [
        "code.py:2: imports 'acme_plugins.csv' dynamically; maestro cannot tell whether it is needed",
        "code.py:3: imports 'pickle' dynamically; maestro cannot tell whether it is needed",
    ]


def test_if_else_alternatives_with_the_standard_library_need_nothing(tmp_path: Path) -> None:
    code = (
        "if has_simplejson:\n    from simplejson import JSONDecodeError\nelse:\n    from json import JSONDecodeError\n"
        "if sys.version_info >= (3, 10):\n    from importlib import metadata\nelse:\n    import lxml as metadata\n"
    )
    needs = infer(tmp_path, code)
    assert (needs.dependencies, needs.optional_dependencies) == ([], {})


def test_a_declared_backport_stays_with_its_marker(tmp_path: Path) -> None:
    # flask: importlib_metadata behind a version check, declared with a python_version marker
    declared = Declared(requirements={"lxml": "lxml>=3.6; python_version < '3.10'", "regex": "regex; extra == 'x'"}, hard={"lxml", "regex"})
    code = "if sys.version_info >= (3, 10):\n    from importlib import metadata\nelse:\n    import lxml as metadata\nimport regex\n"
    needs = infer(tmp_path, code, declared=declared)
    assert needs.dependencies == ['lxml>=3.6; python_version < "3.10"', "regex"]


def test_tests_keep_an_unknown_module_only_when_the_repo_declares_it(tmp_path: Path) -> None:
    declared = Declared(requirements={"hypothesis": "hypothesis>=6"})
    needs = infer(tmp_path, "x = 1\n", tests="import hypothesis\nimport blueprintapp\n", declared=declared)
    assert needs.test_dependencies == ["hypothesis>=6", "pytest"]
    assert needs.warnings == ["test_code.py:2: 'blueprintapp' is neither installed nor declared; not a test dependency"]


def test_a_standard_library_import_beside_the_guarded_one_is_no_alternative(tmp_path: Path) -> None:
    needs = infer(
        tmp_path,
        "try:\n    import json\n    import yaml\nexcept ImportError:\n    yaml = None\n"
        "try:\n    import ujson\nexcept ImportError:\n    ujson = None\nelse:\n    import os\n",
    )
    assert (needs.dependencies, needs.optional_dependencies) == ([], {"pyyaml": ["PyYAML"], "ujson": ["ujson"]})


def test_a_fallback_that_only_warns_is_no_alternative(tmp_path: Path) -> None:
    # rich/live.py: ipywidgets is optional, and `import warnings` in the except branch replaces nothing
    code = (
        "try:\n    from lxml import etree\nexcept ImportError:\n    import warnings\n    warnings.warn('install lxml')\n"
        "try:\n    import ujson\nexcept ImportError:\n    from json import loads as ujson\n"
    )
    needs = infer(tmp_path, code)
    assert (needs.dependencies, needs.optional_dependencies) == ([], {"lxml": ["lxml"]})


def test_the_imports_of_a_module_imported_only_under_a_guard_are_extras(tmp_path: Path) -> None:
    # httpx: __init__ guards `from ._main import main`, and _main imports click, rich and pygments
    files = {
        "__init__.py": "try:\n    from ._main import main\nexcept ImportError:\n    main = None\nfrom . import models\n",
        "_main.py": "import lxml\nimport numpy\nfrom . import models\n",
        "models.py": "import numpy\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    context = ImportContext("pkg", frozenset())
    modules = analyse_modules({tmp_path / n: "pkg" if n == "__init__.py" else f"pkg.{n[:-3]}" for n in files}, context, root=tmp_path)
    resolver = DistributionResolver(environment=ENVIRONMENT, table={}, ambiguous={})
    needs = infer_requirements(modules, [], Declared(), resolver)
    assert (needs.dependencies, needs.optional_dependencies) == (["numpy"], {"lxml": ["lxml"]})


def test_a_bare_except_or_except_exception_guards_an_import_too(tmp_path: Path) -> None:
    code = (
        "try:\n    import simplejson as json\nexcept:\n    import json\n"
        "try:\n    import yaml\nexcept Exception:\n    yaml = None\n"
        "try:\n    import ujson\n    ujson.loads('1')\nexcept Exception:\n    pass\n"  # catches the call's errors
    )
    needs = infer(tmp_path, code)
    assert (needs.dependencies, needs.optional_dependencies) == (["ujson"], {"pyyaml": ["PyYAML"]})
