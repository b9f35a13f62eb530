from __future__ import annotations

from maestro_cli.extract.rewrite import Renames, rewrite_source

RENAMES = Renames({"shared.resilience": "acme_resilience", "shared": "acme_resilience._legacy.shared"})


def rewrite(text: str, renames: Renames = RENAMES) -> str:
    return rewrite_source(text.encode(), renames).decode()


def test_every_import_form_is_renamed_keeping_comments_and_layout() -> None:
    before = (
        "import shared.resilience.retry as r  # keep me\n"
        "from shared.resilience import retry\n"
        "from shared.resilience.retry import (\n    retry,   # aligned\n    backoff,\n)\n"
        "from . import clock\n"
        "from .clock import now\n"
    )
    after = (
        "import acme_resilience.retry as r  # keep me\n"
        "from acme_resilience import retry\n"
        "from acme_resilience.retry import (\n    retry,   # aligned\n    backoff,\n)\n"
        "from . import clock\n"
        "from .clock import now\n"
    )
    assert rewrite(before) == after


def test_dotted_uses_after_a_plain_import_follow() -> None:
    before = "import shared.resilience.clock\n\nx = shared.resilience.clock.now(  )\ny = other.shared.resilience\n"
    after = "import acme_resilience.clock\n\nx = acme_resilience.clock.now(  )\ny = other.shared.resilience\n"
    assert rewrite(before) == after


def test_string_targets_of_mock_patch_and_monkeypatch() -> None:
    before = 'with mock.patch("shared.resilience.clock.now"):\n    monkeypatch.setattr(\'shared.resilience.x.Y\', 1)\nname = "resilience"\n'
    after = 'with mock.patch("acme_resilience.clock.now"):\n    monkeypatch.setattr(\'acme_resilience.x.Y\', 1)\nname = "resilience"\n'
    assert rewrite(before) == after


def test_importing_source_from_its_parent_becomes_an_aliased_import() -> None:
    only_source = Renames({"shared.resilience": "acme_resilience"})
    assert rewrite("from shared import resilience\n", only_source) == "import acme_resilience as resilience\n"
    assert rewrite("from shared import config, resilience as r\n", only_source) == (
        "from shared import config; import acme_resilience as r\n"
    )


def test_copied_legacy_modules_move_under_the_package() -> None:
    assert rewrite("from shared.config import setting\nimport shared.config\nv = shared.config.X\n") == (
        "from acme_resilience._legacy.shared.config import setting\n"
        "import acme_resilience._legacy.shared.config\n"
        "v = acme_resilience._legacy.shared.config.X\n"
    )


def test_untouched_source_comes_back_byte_for_byte() -> None:
    text = b"# -*- coding: latin-1 -*-\nimport os\ns = '\xe9'\n"
    assert rewrite_source(text, RENAMES) == text


def test_file_names_that_share_a_top_level_module_name_are_not_renamed() -> None:
    renames = Renames({"config": "acme_config"})
    text = 'PATH = os.path.join(HERE, "config.json")\nLOG = "config.log"\nmock.patch("config.loader.json")\n'
    assert rewrite(text, renames) == 'PATH = os.path.join(HERE, "config.json")\nLOG = "config.log"\nmock.patch("acme_config.loader.json")\n'


def test_relative_imports_that_leave_source_become_absolute_and_those_inside_stay() -> None:
    text = "from .. import config\nfrom ..config import NAME\nfrom . import clock\nfrom .clock import now\n"
    # --allow-internal: the legacy modules stay where they are
    assert rewrite_source(text.encode(), Renames({"shared.res": "acme_res"}), package="shared.res", new_package="acme_res").decode() == (
        "from shared import config\nfrom shared.config import NAME\nfrom . import clock\nfrom .clock import now\n"
    )
    # --with-internal: they move under the package
    assert rewrite_source(text.encode(), Renames({"shared.res": "acme_res", "shared": "acme_res._legacy.shared"}), package="shared.res", new_package="acme_res").decode() == (
        "from acme_res._legacy.shared import config\nfrom acme_res._legacy.shared.config import NAME\nfrom . import clock\nfrom .clock import now\n"
    )


def test_a_top_level_package_imported_whole_keeps_its_name_as_an_alias() -> None:
    # click's own tests: ``import click`` then ``(click, "get_binary_stream", ...)``, a bare use
    renames = Renames({"click": "x_click"})
    assert rewrite("import click\n\nmodules = [click]\nclick.echo(1)\n", renames) == (
        "import x_click as click\n\nmodules = [click]\nclick.echo(1)\n"
    )
    assert rewrite("import click\nimport click.core\n\nm = (click, click.core.Command)\n", renames) == (
        "import x_click as click\nimport x_click.core\n\nm = (click, x_click.core.Command)\n"
    )


def test_relative_imports_of_files_that_move_with_them_stay_relative() -> None:
    # a carried test from services/billing/tests/ lands in tests/, its helper beside it
    text = "from . import helpers\nfrom .helpers import make\n"
    renames = Renames({"services.billing.tax": "acme_tax"})
    assert rewrite_source(text.encode(), renames, package="services.billing.tests", new_package="tests").decode() == text


def test_the_legacy_distribution_name_in_metadata_lookups_becomes_the_new_one() -> None:
    # click's __version__ is importlib.metadata.version("click"): under a new name it must ask for x-click
    renames = Renames({"click": "x_click"}, distributions={"click": "x-click"})
    text = 'import importlib.metadata\nv = importlib.metadata.version("click")\nm = metadata(\'Click\')\nname = "click"\n'
    assert rewrite(text, renames) == (
        'import importlib.metadata\nv = importlib.metadata.version("x-click")\nm = metadata(\'x-click\')\nname = "click"\n'
    )
