"""Near-copies are found through renames, other strings and reformatting, and grouped once."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_cli.scan.duplicates import Unit, find_duplicates, rows_per_band
from maestro_cli.scan.fingerprint import (
    BINS,
    FileShingles,
    estimated_similarity,
    fingerprint_source,
    minhash,
    normalise,
)

from .conftest import FIXTURES

BILLING_REGISTRY = FIXTURES / "billing-service" / "registry.py"
SHIPPING_REGISTRY = FIXTURES / "shipping-service" / "shipping" / "common" / "service_registry.py"


def units_of(repo: str, path: Path, min_lines: int = 5) -> list[Unit]:
    _, _, prints = fingerprint_source(path.read_bytes(), min_lines)
    return [Unit(repo, path.name, kind, name, start, end, signature) for kind, name, start, end, signature in prints]


def test_names_strings_comments_and_layout_do_not_change_the_normalised_code() -> None:
    first = "def total(items):  # sum them\n    return sum(i.price for i in items if i.kind == 'a')\n"
    second = 'def   add_up( rows ):\n    return sum( r.cost for r in rows if r.type == "zz" )\n'
    assert normalise(first) == normalise(second) == ["defI(I):", "returnI(I.IforIinIifI.I==\")", ""]


def test_a_multiline_string_keeps_the_line_numbers() -> None:
    text = 'x = """one\ntwo\nthree"""\ny = 1\n'
    assert normalise(text) == ['I="', "", "", "I=I", ""]


def test_units_run_from_the_decorator_to_the_last_indented_line() -> None:
    text = (
        "import os\n\n"
        "@cache\n"
        "def f(\n"
        "    a,\n"
        ") -> None:\n"
        "    x = 1\n\n"
        "    return x\n\n"
        "class C:\n"
        "    def m(self):\n"
        "        return self.value + 1\n"
        "y = 2\n"
    )
    _, code_lines, prints = fingerprint_source(text.encode(), min_lines=1)
    assert [(kind, name, start, end) for kind, name, start, end, _ in prints] == [
        ("module", "", 1, 14),
        ("function", "f", 3, 9),
        ("class", "C", 11, 13),
        ("function", "C.m", 12, 13),
    ]
    assert code_lines == 11


def test_python2_files_are_fingerprinted_too() -> None:
    lines, _, prints = fingerprint_source((FIXTURES / "shipping-service" / "shipping" / "legacy_report.py").read_bytes(), 3)
    assert lines == 8
    assert [(kind, name) for kind, name, *_ in prints] == [("module", ""), ("function", "main")]


def whole_file_signature(path: Path) -> tuple[int, ...] | None:
    normalised = normalise(path.read_text())
    return minhash(FileShingles(normalised).between(1, len(normalised)))


def test_identical_code_has_identical_signatures_and_unrelated_code_does_not() -> None:
    signature = whole_file_signature(BILLING_REGISTRY)
    assert signature is not None and len(signature) == BINS
    assert whole_file_signature(BILLING_REGISTRY) == signature
    other = whole_file_signature(FIXTURES / "billing-service" / "retry.py")
    assert other is not None
    assert estimated_similarity(signature, other) < 0.3


def test_a_units_shingles_are_those_inside_its_lines() -> None:
    normalised = normalise("a = 1\nb = [x * 2 for x in range(10) if x % 3]\nc = 3\n")
    shingles = FileShingles(normalised)
    assert shingles.between(1, 1) == []  # "I=I" is shorter than one shingle
    middle = shingles.between(2, 2)
    assert len(middle) == len("I=[I*IforIinI(I)ifI%I]") - 15
    assert middle == sorted(middle)
    # the whole file adds the shingles that cross into the first and the last line
    assert set(middle) < set(shingles.between(1, 2)) < set(shingles.between(1, 3))


def test_the_drifted_registry_copy_is_one_group_of_two_modules() -> None:
    units = units_of("billing-service", BILLING_REGISTRY) + units_of("shipping-service", SHIPPING_REGISTRY)
    groups = find_duplicates(units, similarity=0.8)
    assert len(groups) == 1, groups
    group = groups[0]
    assert group.kind == "module"
    assert [(m.repo, m.path, m.start, m.end) for m in group.members] == [
        ("shipping-service", "service_registry.py", 1, 65),
        ("billing-service", "registry.py", 1, 60),
    ]
    assert 0.8 <= group.similarity < 1.0
    assert group.repos == ["billing-service", "shipping-service"]


def test_a_stricter_threshold_leaves_the_drifted_module_but_keeps_the_methods() -> None:
    units = units_of("billing-service", BILLING_REGISTRY) + units_of("shipping-service", SHIPPING_REGISTRY)
    groups = find_duplicates(units, similarity=0.97)
    assert {group.kind for group in groups} == {"function"}
    names = {tuple(sorted(m.name for m in group.members)) for group in groups}
    assert ("Registry._purge", "ServiceRegistry._expire") in names
    assert ("Registry.beat", "ServiceRegistry.heartbeat") in names


def test_three_copies_form_one_group_and_units_never_pair_with_what_contains_them() -> None:
    units = [*units_of("a", BILLING_REGISTRY), *units_of("b", BILLING_REGISTRY), *units_of("c", SHIPPING_REGISTRY)]
    groups = find_duplicates(units, similarity=0.8)
    assert len(groups) == 1
    assert sorted(m.repo for m in groups[0].members) == ["a", "b", "c"]
    assert all(m.name == "" for m in groups[0].members)


@pytest.mark.parametrize("similarity", [0.5, 0.7, 0.8, 0.9, 0.95])
def test_the_bands_put_the_lsh_threshold_below_the_requested_similarity(similarity: float) -> None:
    rows = rows_per_band(similarity)
    assert (1 / (BINS // rows)) ** (1 / rows) < similarity
