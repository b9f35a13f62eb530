"""Verdicts, crossings, closures, dependents, dependencies and extract commands on the fixture repos."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_cli.errors import InputError, UsageError
from maestro_cli.scan import engine
from maestro_cli.scan.engine import ScanRequest, scan
from maestro_cli.scan.model import Candidate, Crossing, ScanReport, Verdict

from .conftest import FIXTURES

BILLING = FIXTURES / "billing-service"
SHIPPING = FIXTURES / "shipping-service"


def candidate(report: ScanReport, repo: str, module: str) -> Candidate:
    return next(c for c in report.candidates if (c.repo, c.module) == (repo, module))


def test_every_package_subpackage_and_top_level_module_is_judged(fixture_report: ScanReport) -> None:
    judged = {(c.repo, c.module): c.verdict_label for c in fixture_report.candidates}
    assert judged == {
        ("billing-service", "registry"): "ready",
        ("billing-service", "retry"): "ready",
        ("billing-service", "settings"): "ready",
        ("billing-service", "storage"): "needs 1 module",
        ("billing-service", "invoices"): "needs 4 modules",
        ("billing-service", "invoices.pdf"): "needs 1 module",
        ("billing-service", "app"): "needs 8 modules",
        ("shipping-service", "shipping"): "blocked",
        ("shipping-service", "shipping.common"): "ready",
    }


def test_ready_candidates_rank_first_and_blocked_ones_last(fixture_report: ScanReport) -> None:
    ranked = [c.module for c in fixture_report.candidates]
    # shipping.common (54 loc, 1 dependent) outranks retry (22 loc, 2 dependents): its copy in
    # billing is one more place that would use the extracted package
    assert ranked[:3] == ["registry", "shipping.common", "retry"]
    assert ranked[-1] == "shipping"
    assert [c.score for c in fixture_report.candidates] == sorted((c.score for c in fixture_report.candidates), reverse=True)


def test_the_tangled_package_lists_every_crossing_and_its_closure(fixture_report: ScanReport) -> None:
    invoices = candidate(fixture_report, "billing-service", "invoices")
    assert invoices.verdict is Verdict.NEEDS
    assert invoices.crossings == (
        Crossing("invoices/pdf/__init__.py", 3, "retry"),
        Crossing("invoices/render.py", 3, "registry"),
        Crossing("invoices/totals.py", 3, "storage.db"),
        Crossing("invoices/totals.py", 4, "retry"),
    )
    # storage.db needs settings in turn: the closure is transitive
    assert invoices.closure == ("registry", "retry", "settings", "storage.db")
    assert invoices.dependents == ("app",)
    assert invoices.files == 4


def test_importing_a_name_from_a_package_counts_the_package_itself(fixture_report: ScanReport) -> None:
    # app.py: `from invoices import render, total`; total lives in invoices/__init__.py
    app = candidate(fixture_report, "billing-service", "app")
    assert "invoices" in app.closure and "invoices.totals" in app.closure


def test_dependents_are_the_modules_that_import_a_candidate_but_not_its_tests(fixture_report: ScanReport) -> None:
    assert candidate(fixture_report, "billing-service", "registry").dependents == ("app", "invoices.render")
    assert candidate(fixture_report, "billing-service", "retry").dependents == ("invoices.pdf", "invoices.totals")


def test_copies_elsewhere_are_counted_as_beneficiaries(fixture_report: ScanReport) -> None:
    assert candidate(fixture_report, "billing-service", "registry").copies == (
        "shipping-service/shipping/common/service_registry.py:1-65",
    )
    assert candidate(fixture_report, "shipping-service", "shipping.common").copies == ("billing-service/registry.py:1-60",)
    assert candidate(fixture_report, "billing-service", "retry").copies == ()


def test_dependencies_come_from_extract_inference_with_the_repo_pins(fixture_report: ScanReport) -> None:
    assert candidate(fixture_report, "billing-service", "settings").dependencies == ("PyYAML>=5.4",)
    assert candidate(fixture_report, "billing-service", "invoices").dependencies == ("requests>=2.20",)
    assert candidate(fixture_report, "shipping-service", "shipping").dependencies == ("requests==2.31.0",)
    assert candidate(fixture_report, "billing-service", "registry").dependencies == ()


def test_a_python2_file_blocks_its_package_with_file_and_line(fixture_report: ScanReport) -> None:
    shipping = candidate(fixture_report, "shipping-service", "shipping")
    assert shipping.verdict is Verdict.BLOCKED
    assert len(shipping.unparsable) == 1
    assert shipping.unparsable[0].startswith("shipping/legacy_report.py:8: Missing parentheses")
    assert shipping.extract_command is None
    assert shipping.score == 0


def test_extract_commands_name_the_path_the_dist_and_the_repo(fixture_report: ScanReport) -> None:
    assert candidate(fixture_report, "billing-service", "registry").extract_command == (
        f"maestro extract {BILLING}/registry.py --name billing-service-registry --repo {BILLING}"
    )
    assert candidate(fixture_report, "shipping-service", "shipping.common").extract_command == (
        f"maestro extract {SHIPPING}/shipping/common --name shipping-service-common --repo {SHIPPING}"
    )
    assert candidate(fixture_report, "billing-service", "storage").extract_command == (
        f"maestro extract {BILLING}/storage --name billing-service-storage --repo {BILLING} --with-internal"
    )


def test_the_summary_counts_lines_copies_and_the_reuse_of_the_top_candidates(fixture_report: ScanReport) -> None:
    summary = fixture_report.summary
    assert (summary.repos, summary.files, summary.unparsable_files) == (2, 18, 1)
    # both registry copies, 60 + 65 lines, have a near copy in the other repo
    assert summary.duplicated_lines == 125
    # extracting billing's registry (ranked first) replaces shipping's 65-line copy, counted once
    assert summary.reuse_lines == 65
    ready = {"registry": 48, "retry": 22, "settings": 7, "shipping.common": 54}
    assert summary.ready_loc == sum(ready.values()) == sum(
        c.loc for c in fixture_report.candidates if c.verdict is Verdict.READY
    )


def test_the_cross_repo_copy_is_reported_with_both_line_ranges(fixture_report: ScanReport) -> None:
    [group] = fixture_report.duplicates
    assert [(m.location, m.name) for m in group.members] == [
        ("shipping-service/shipping/common/service_registry.py:1-65", ""),
        ("billing-service/registry.py:1-60", ""),
    ]


def test_a_second_scan_reads_fingerprints_and_imports_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = ScanRequest(paths=(BILLING,), cache_dir=tmp_path, jobs=1)
    first = scan(request)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again although the cache holds the file")

    monkeypatch.setattr("maestro_cli.scan.sources.fingerprint_source", no_parsing)
    monkeypatch.setattr("maestro_cli.scan.sources.scan_source", no_parsing)
    assert scan(request) == first
    # another --min-lines is another fingerprint: it must not come from the cache
    with pytest.raises(AssertionError, match="parsed again"):
        scan(ScanRequest(paths=(BILLING,), cache_dir=tmp_path, jobs=1, min_lines=5))


def test_a_folder_of_repos_and_the_repos_themselves_give_the_same_candidates(fixture_report: ScanReport, tmp_path: Path) -> None:
    direct = scan(ScanRequest(paths=(BILLING, SHIPPING), cache_dir=tmp_path, jobs=1))
    assert [(c.repo, c.module, c.verdict_label) for c in direct.candidates] == [
        (c.repo, c.module, c.verdict_label) for c in fixture_report.candidates
    ]


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (("missing",), "missing: no such directory"),
        (("billing-service/setup.py",), "setup.py: not a directory"),
        (("empty",), "empty: no Python files found"),
    ],
)
def test_bad_paths_are_input_errors(tmp_path: Path, paths: tuple[str, ...], message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "billing-service").mkdir()
    (tmp_path / "billing-service" / "setup.py").write_text("")
    with pytest.raises(InputError, match=message):
        scan(ScanRequest(paths=tuple(tmp_path / p for p in paths), cache_dir=tmp_path / "cache"))


@pytest.mark.parametrize(
    ("option", "value"), [("min_lines", 1), ("similarity", 0.0), ("similarity", 1.5), ("top", 0)]
)
def test_out_of_range_options_are_usage_errors(option: str, value: float) -> None:
    with pytest.raises(UsageError):
        scan(ScanRequest(paths=(BILLING,), **{option: value}))  # type: ignore[arg-type]


def test_the_scan_restores_the_garbage_collector() -> None:
    import gc

    assert gc.isenabled()
    with engine._collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_copies_inside_one_repo_are_duplicates_but_add_nothing_to_a_candidate(tmp_path: Path) -> None:
    repo = tmp_path / "monolith"
    repo.mkdir()
    (repo / "setup.py").write_text("")
    (repo / "registry.py").write_bytes((BILLING / "registry.py").read_bytes())
    (repo / "old_registry.py").write_bytes((SHIPPING / "shipping" / "common" / "service_registry.py").read_bytes())
    report = scan(ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1))
    [group] = report.duplicates
    assert sorted(m.path for m in group.members) == ["old_registry.py", "registry.py"]
    assert [c.copies for c in report.candidates] == [(), ()]
    assert report.summary.duplicated_lines == 0  # duplicated *across* repos
    assert report.summary.reuse_lines == 0


def test_an_extract_after_a_scan_parses_nothing_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_cli.extract.extraction import ExtractRequest, extract

    scan(ScanRequest(paths=(BILLING,), cache_dir=tmp_path, jobs=1))

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again although the scan cached the file")

    monkeypatch.setattr("maestro_cli.extract.scan.scan_source", no_parsing)
    result = extract(
        ExtractRequest(source=BILLING / "registry.py", dist_name="billing-registry", repo=BILLING, dry_run=True, cache_dir=tmp_path, jobs=1)
    )
    assert not result.blocked
    assert [f.destination for f in result.files if f.role.value == "test"] == ["tests/test_registry.py"]


def test_a_file_with_a_null_byte_blocks_its_module_and_the_scan_goes_on(tmp_path: Path) -> None:
    repo = tmp_path / "legacy"
    repo.mkdir()
    (repo / "requirements.txt").write_text("")
    (repo / "broken.py").write_bytes(b"x = 1\x00\n")
    (repo / "fine.py").write_text("import json\n")
    report = scan(ScanRequest(paths=(repo,), cache_dir=tmp_path / "cache", jobs=1))
    verdicts = {c.module: (c.verdict, c.unparsable) for c in report.candidates}
    assert verdicts["fine"] == (Verdict.READY, ())
    assert verdicts["broken"][0] is Verdict.BLOCKED
    assert verdicts["broken"][1][0].startswith("broken.py:1: ")
    assert report.summary.unparsable_files == 1
