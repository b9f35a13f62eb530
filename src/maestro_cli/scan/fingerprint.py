"""Fingerprints of code that survive renamed identifiers, other strings and reformatting.

A file's text is normalised once: comments dropped, every string literal reduced to one quote (its
newlines kept, so line numbers still hold), every name and number that is not a keyword reduced to
``I``, and whitespace removed. Copies that differ only in names, literals and layout then read the
same. Functions and classes are found from the indentation of the original lines, so files that do
not parse (Python 2) are fingerprinted too.

Each unit (the module, every class, every function) of at least ``min_lines`` lines is shingled into
16-byte windows of its normalised text and summarised by a one-permutation MinHash signature of
``BINS`` values: the share of equal positions in two signatures estimates the Jaccard similarity of
their shingle sets. Everything heavy runs inside C (``re``, ``array``, ``set``, ``sorted``, ``zip``),
and the result is plain tuples so that ``marshal`` caches it and worker processes return it cheaply.
"""

from __future__ import annotations

import keyword
import re
from array import array
from itertools import islice

# bump when normalisation, shingling or the signature change: cached fingerprints are then not reused
FINGERPRINT_VERSION = 1
BINS = 128
WORD = 8  # bytes per array('Q') item; a shingle is two consecutive words, 16 normalised bytes
_DENSIFY_STEP = 0x9E3779B97F4A7C15  # odd 64-bit constant: borrowed values differ by their distance

# a string or a comment, whichever starts first; the lookbehinds let the first character dispatch
_STRING_OR_COMMENT = re.compile(
    r"""[#"'](?:(?<=#)[^\n]*"""
    r'''|(?<=")""[\s\S]*?"""|(?<=')''[\s\S]*?\'\'\''''
    r"""|(?<=")(?:\\.|[^"\\\n])*"|(?<=')(?:\\.|[^'\\\n])*')"""
)
_KEYWORDS = "|".join(sorted(keyword.kwlist, key=len, reverse=True))
_NAME_OR_NUMBER = re.compile(rf"\b(?!(?:{_KEYWORDS})\b)\w+")
_SPACE = re.compile(r"[ \t\f\r\\]+")
_DEFINITION = re.compile(r"\s*(?:async\s+)?(def|class)\s+(\w+)")
_HEADERS = ("def", "class", "asyncdef", "@")
_CLOSERS = (")", "]", "}")

# (kind, qualified name, first line, last line, signature); kind is "module", "class" or "function"
UnitPrint = tuple[str, str, int, int, tuple[int, ...]]
# (physical lines, lines of code, units)
FilePrint = tuple[int, int, list[UnitPrint]]


def _without_literal(match: re.Match[str]) -> str:
    text = match.group()
    return "" if text[0] == "#" else '"' + "\n" * text.count("\n")


def normalise(text: str) -> list[str]:
    """One normalised string per line of ``text``; empty where the line holds no code."""
    text = _STRING_OR_COMMENT.sub(_without_literal, text)
    text = _NAME_OR_NUMBER.sub("I", text)
    return _SPACE.sub("", text).split("\n")


def fingerprint_source(data: bytes, min_lines: int) -> FilePrint:
    """Line counts and the signatures of every unit of at least ``min_lines`` lines."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    normalised = normalise(text)
    code_lines = len(normalised) - normalised.count("")
    units: list[UnitPrint] = []
    for kind, name, start, end in find_units(lines, normalised):
        if end - start + 1 < min_lines:
            continue
        signature = minhash("".join(normalised[start - 1 : end]))
        if signature is not None:
            units.append((kind, name, start, end, signature))
    return (len(lines) - (1 if text.endswith("\n") else 0), code_lines, units)


def find_units(lines: list[str], normalised: list[str]) -> list[tuple[str, str, int, int]]:
    """The module, then every class and function: (kind, qualified name, first line, last line).

    A unit runs from its first decorator to the last code line indented deeper than its header.
    Lines inside brackets that start at the header's indentation (``) -> None:``) do not end it.
    """
    found: list[tuple[str, str, int, int]] = []
    open_units: list[list] = []  # [indent, kind, qualified name, first line, last code line]
    decorator_start: int | None = None
    last_code = 0
    for number, code in enumerate(normalised, start=1):
        if not code:
            continue
        if code.startswith(_CLOSERS):
            last_code = number
            continue
        raw = lines[number - 1]
        indent = len(raw) - len(raw.lstrip(" \t"))
        while open_units and open_units[-1][0] >= indent:
            closed = open_units.pop()
            found.append((closed[1], closed[2], closed[3], last_code))
        last_code = number
        if code.startswith(_HEADERS):
            if code[0] == "@":
                decorator_start = decorator_start or number
                continue
            match = _DEFINITION.match(raw)
            if match is not None:
                kind = "class" if match.group(1) == "class" else "function"
                qualified = ".".join([*(unit[2] for unit in open_units[-1:]), match.group(2)])
                open_units.append([indent, kind, qualified, decorator_start or number, number])
        decorator_start = None
    while open_units:
        closed = open_units.pop()
        found.append((closed[1], closed[2], closed[3], last_code))
    found.sort(key=lambda unit: unit[2])
    return [("module", "", 1, last_code), *found] if last_code else found


def minhash(normalised: str) -> tuple[int, ...] | None:
    """The one-permutation MinHash of the text's 16-byte shingles; None when it has fewer than two words."""
    data = normalised.encode("ascii", "replace")
    shingles: set[int] = set()
    for offset in range(WORD):
        count = (len(data) - offset) // WORD
        if count < 2:
            break
        words = array("Q")
        words.frombytes(data[offset : offset + count * WORD])
        # a tuple of ints hashes the same in every process and run, unlike str and bytes
        shingles.update(map(hash, zip(words, islice(words, 1, None))))
    if not shingles:
        return None
    # each shingle falls in bin hash % BINS; writing the bins in descending order leaves each bin's minimum
    descending = sorted(shingles, reverse=True)
    bins = dict(zip(map(BINS.__rmod__, descending), descending))
    return _densified(bins)


def _densified(bins: dict[int, int]) -> tuple[int, ...]:
    """Fill empty bins from the next filled one (rotation), so that small units still compare fairly."""
    if len(bins) == BINS:
        return tuple(bins[index] for index in range(BINS))
    signature = []
    for index in range(BINS):
        distance = 0
        while (index + distance) % BINS not in bins:
            distance += 1
        signature.append(bins[(index + distance) % BINS] + distance * _DENSIFY_STEP)
    return tuple(signature)


def estimated_similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """The share of equal positions: an unbiased estimate of the Jaccard similarity of the shingle sets."""
    return sum(map(int.__eq__, first, second)) / BINS
