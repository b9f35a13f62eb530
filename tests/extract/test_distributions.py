from __future__ import annotations

import json

import pytest

from maestro_cli.extract.distributions import TABLE_PATH, DistributionResolver, ResolvedBy


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("yaml", "PyYAML"),
        ("PIL.Image", "Pillow"),
        ("bs4", "beautifulsoup4"),
        ("cv2", "opencv-python"),
        ("sklearn.linear_model", "scikit-learn"),
        ("dateutil.parser", "python-dateutil"),
        ("jwt", "PyJWT"),
        ("socks", "PySocks"),
        ("google.protobuf.message", "protobuf"),
        ("attr", "attrs"),
        ("magic", "python-magic"),
        ("MySQLdb", "mysqlclient"),  # pipreqs says MySQL-python, dead since 2014
    ],
)
def test_the_shipped_table_knows_the_common_mismatches(module: str, distribution: str) -> None:
    resolution = DistributionResolver(environment={}).resolve(module)
    assert (resolution.distribution, resolution.resolved_by) == (distribution, ResolvedBy.TABLE)


def test_the_environment_wins_over_the_table() -> None:
    resolver = DistributionResolver(environment={"yaml": ["ruamel-yaml-shim"]})
    assert resolver.resolve("yaml").distribution == "ruamel-yaml-shim"


def test_two_owners_are_ambiguous_not_guessed() -> None:
    resolution = DistributionResolver(environment={"shared_ns": ["not-installed-a", "not-installed-b"]}).resolve("shared_ns.x")
    assert resolution.distribution is None
    assert resolution.resolved_by is ResolvedBy.AMBIGUOUS
    assert resolution.candidates == ("not-installed-a", "not-installed-b")


def test_an_unknown_module_is_a_flagged_guess() -> None:
    resolution = DistributionResolver(environment={}).resolve("frobnicate.core")
    assert (resolution.distribution, resolution.resolved_by) == ("frobnicate", ResolvedBy.GUESS)


def test_the_installed_environment_is_read() -> None:
    assert DistributionResolver().resolve("_pytest.fixtures").distribution == "pytest"


def test_the_table_names_its_source_and_licence() -> None:
    document = json.loads(TABLE_PATH.read_text())
    assert document["_license"] == "Apache-2.0"
    assert "pipreqs" in document["_about"]
    assert "google" not in document["modules"]  # a namespace no single project owns


def test_the_installed_map_is_kept_on_disk_until_site_packages_changes(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.extract import distributions

    distributions.installed_modules.cache_clear()
    first = distributions.installed_modules(tmp_path)

    def no_scan() -> None:
        raise AssertionError("scanned the environment again")

    monkeypatch.setattr(distributions.metadata, "packages_distributions", no_scan)
    distributions.installed_modules.cache_clear()
    try:
        assert distributions.installed_modules(tmp_path) == first
    finally:
        distributions.installed_modules.cache_clear()
