"""Fingerprints of code that survive renamed identifiers, other strings and reformatting.

A file's text is normalised once: comments dropped, every string literal reduced to one quote (its
newlines kept, so line numbers still hold), every name and number that is not a keyword reduced to
``I``, and whitespace removed. Copies that differ only in names, literals and layout then read the
same. Functions and classes are found from the indentation of the original lines, so files that do
not parse (Python 2) are fingerprinted too.

Each unit (the module, every class, every function) of at least ``min_lines`` lines is shingled into
16-byte windows of its normalised text and summarised by a one-permutation MinHash signature of
``BINS`` values: the share of equal positions in two signatures estimates the Jaccard similarity of
their shingle sets. The work per shingle runs inside C (``re``, ``array``, ``zip``, ``sort``,
``bisect`` mapped over the bins), and the result is plain tuples and bytes so that ``marshal`` caches
it and worker processes return it cheaply.
"""

from __future__ import annotations

import keyword
import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate, compress, islice, repeat
from operator import add, itemgetter, mul

# bump when normalisation, shingling or the signature change: cached fingerprints are then not reused
FINGERPRINT_VERSION = 3
BINS = 128
WORD = 8  # bytes per array('Q') item; a shingle is two consecutive words, 16 normalised bytes
# hash() of a tuple is a signed int of sys.hash_info.width bits (64 on 64-bit builds); bin i holds
# the i-th of BINS equal ranges of it
_BIN_WIDTH = 2**sys.hash_info.width // BINS
_BIN_LOWS = tuple(-(2 ** (sys.hash_info.width - 1)) + index * _BIN_WIDTH for index in range(BINS))
# past the last filled bin: the largest 64-bit value, above every hash but one that a hash practically
# never takes, so that signatures pack into array("q")
_NO_VALUE = 2**63 - 1

# a comment, or a string (triple-quoted first), whichever starts first: one pass, so that a quote in
# a comment or a hash in a string is taken for what it is. Dispatched on the first character, string
# bodies as unrolled loops (``[^"\\\n]*(?:\\.[^"\\\n]*)*``): a repeat of one character class runs in C
# without a branch per character. ASCII mode is the same language here (no \w, \b or \d) and faster.
_STRING_OR_COMMENT = re.compile(
    r"(#[^\n]*"
    r'''|"(?:""[\s\S]*?"""|[^"\\\n]*(?:\\.[^"\\\n]*)*")'''
    r"""|'(?:''[\s\S]*?'''|[^'\\\n]*(?:\\.[^'\\\n]*)*'))""",
    re.ASCII,
)
# what a comment or string is reduced to, by its first character (the newlines of a string follow)
_LITERAL_HEADS = {"#": "", '"': '"', "'": '"'}


def _keyword_trie(words: list[str]) -> str:
    """An alternation of ``words`` nested by common prefix (``a(?:nd|s(?:sert|ync)?|wait)``): the
    regex engine then tries one branch per character, not every keyword at every word."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}

    def pattern(node: dict[str, dict]) -> str:
        branches = [re.escape(character) + pattern(child) for character, child in sorted(node.items()) if character]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(tree)


# every name and number that is not a keyword; \b and \w on ASCII text are table lookups, on other
# text Unicode ones, so ASCII files (nearly all) take the ASCII pattern: the same matches, twice as fast
_NOT_KEYWORD = rf"\b(?!{_keyword_trie(keyword.kwlist)}\b)\w+"
_NAME_OR_NUMBER = re.compile(_NOT_KEYWORD)
_ASCII_NAME_OR_NUMBER = re.compile(_NOT_KEYWORD, re.ASCII)
# layout and line continuations; str.translate deletes them several times faster than a regex
_LAYOUT = str.maketrans("", "", " \t\f\r\\")
_DEFINITION = re.compile(r"\s*(?:async\s+)?(def|class)\s+(\w+)")
_HEADERS = ("def", "class", "asyncdef", "@")
_HEADER_STARTS = "dca@"
_CLOSERS = ")]}"

# (kind, qualified name, first line, last line, signature packed as array("q") bytes: 1 KiB, where a
# tuple of ints takes 5; kind is "module", "class" or "function"
UnitPrint = tuple[str, str, int, int, bytes]
# (physical lines, lines of code, units)
FilePrint = tuple[int, int, list[UnitPrint]]


def normalise(text: str) -> list[str]:
    """One normalised string per line of ``text``; empty where the line holds no code."""
    # split() puts each comment or string at an odd index; their replacements are made by C-level
    # maps (first character, then as many newlines as the string spans), no Python call per literal
    parts = _STRING_OR_COMMENT.split(text)
    literals = parts[1::2]
    parts[1::2] = map(
        add,
        map(_LITERAL_HEADS.__getitem__, map(itemgetter(0), literals)),
        map(mul, repeat("\n"), map(str.count, literals, repeat("\n"))),
    )
    text = "".join(parts)
    text = (_ASCII_NAME_OR_NUMBER if text.isascii() else _NAME_OR_NUMBER).sub("I", text)
    return text.translate(_LAYOUT).split("\n")


def fingerprint_source(data: bytes, min_lines: int) -> FilePrint:
    """Line counts and the signatures of every unit of at least ``min_lines`` lines.

    The units' first and last lines cut the file into segments; each segment is signed once, and a
    unit's signature is the position-wise minimum over its segments, which is exactly the signature
    of the union of their shingles (bins are value ranges). So every byte is hashed and sorted once,
    however deeply units nest.
    """
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    normalised = normalise(text)
    code_lines = len(normalised) - normalised.count("")
    physical = len(lines) - (1 if text.endswith("\n") else 0)
    found = [unit for unit in find_units(lines, normalised) if unit[3] - unit[2] + 1 >= min_lines]
    if not found:
        return (physical, code_lines, [])
    shingles = FileShingles(normalised)
    cuts = sorted({cut for _, _, start, end in found for cut in (start, end + 1)})
    segments = [minhash(shingles.between(first, following - 1)) for first, following in zip(cuts, cuts[1:])]
    segment_at = {cut: index for index, cut in enumerate(cuts)}  # a unit's segments are one run of them
    units: list[UnitPrint] = []
    for kind, name, start, end in found:
        signatures = [signature for signature in segments[segment_at[start] : segment_at[end + 1]] if signature]
        if signatures:
            merged = map(min, *signatures) if len(signatures) > 1 else signatures[0]
            units.append((kind, name, start, end, array("q", merged).tobytes()))
    return (physical, code_lines, units)


class FileShingles:
    """Every 16-byte shingle of a file's normalised text, hashed once, sliced out for each unit.

    For each of the 8 byte offsets the text is read as 8-byte words (``array``); a shingle is two
    consecutive words, and a tuple of ints hashes the same in every process and run, unlike str and
    bytes. The eight offsets' hashes are interleaved into one list by position, so that a unit's
    shingles (those lying wholly inside its lines) are one slice.
    """

    def __init__(self, normalised: list[str]) -> None:
        data = "".join(normalised).encode("ascii", "replace")  # one byte per character, so offsets hold
        self.line_starts = [0, *accumulate(map(len, normalised))]
        # hashes[p] is the shingle of bytes p .. p + 15
        self.hashes: list[int] = [0] * max(0, len(data) - 2 * WORD + 1)
        for offset in range(WORD):
            words = array("Q")
            words.frombytes(data[offset : offset + (len(data) - offset) // WORD * WORD])
            self.hashes[offset::WORD] = map(hash, zip(words, islice(words, 1, None)))

    def between(self, first_line: int, last_line: int) -> list[int]:
        """The shingles wholly inside the lines, sorted; repeats stay (they change no minimum)."""
        start, end = self.line_starts[first_line - 1], self.line_starts[last_line]
        found = self.hashes[start : max(start, end - 2 * WORD + 1)]  # a negative end would count from the back
        found.sort()
        return found


def find_units(lines: list[str], normalised: list[str]) -> list[tuple[str, str, int, int]]:
    """The module, then every class and function: (kind, qualified name, first line, last line).

    A unit runs from its first decorator to the last code line indented deeper than its header.
    Lines inside brackets that start at the header's indentation (``) -> None:``) do not end it.
    """
    found: list[tuple[str, str, int, int]] = []
    open_units: list[tuple[int, str, str, int]] = []  # (indent, kind, qualified name, first line)
    decorator_start: int | None = None
    last_code = 0
    for number, code in compress(enumerate(normalised, start=1), normalised):  # lines with code only
        first = code[0]  # one character decides most lines: checked before any method call
        if first in _CLOSERS:
            last_code = number
            continue
        header = first in _HEADER_STARTS and code.startswith(_HEADERS)
        if open_units or header:
            raw = lines[number - 1]
            indent = len(raw) - len(raw.lstrip(" \t"))
            while open_units and open_units[-1][0] >= indent:
                closed = open_units.pop()
                found.append((closed[1], closed[2], closed[3], last_code))
        last_code = number
        if header:
            if first == "@":
                decorator_start = decorator_start or number
                continue
            match = _DEFINITION.match(raw)
            if match is not None:
                kind = "class" if match.group(1) == "class" else "function"
                qualified = f"{open_units[-1][2]}.{match.group(2)}" if open_units else match.group(2)
                open_units.append((indent, kind, qualified, decorator_start or number))
        decorator_start = None
    while open_units:
        closed = open_units.pop()
        found.append((closed[1], closed[2], closed[3], last_code))
    found.sort(key=lambda unit: unit[2])
    return [("module", "", 1, last_code), *found] if last_code else found


def minhash(shingles: list[int]) -> tuple[int, ...] | None:
    """The one-permutation MinHash of sorted shingle hashes; None when there are none.

    Bin i holds the i-th of BINS equal ranges of hash values, so its minimum is the first value at
    or above its lower bound: one bisection per bin, mapped in C, no Python work per shingle. An
    empty bin's bisection lands on the next filled bin's minimum, which is rotation densification
    for free: the borrowed value lies in the donor's range, so it never equals a real value of the
    empty bin, and two units share it only when both borrow from the same bin across the same
    empty stretch. Past the last filled bin, the value is ``_NO_VALUE``, above every hash, so that
    the position-wise minimum of two signatures is still the signature of the union.
    """
    if not shingles:
        return None
    positions = map(bisect_left, repeat(shingles, BINS), _BIN_LOWS)
    shingles.append(_NO_VALUE)
    return tuple(map(shingles.__getitem__, positions))


def packed(signature: Sequence[int] | bytes) -> bytes:
    """A signature as array("q") bytes, the form units carry it in."""
    return signature if isinstance(signature, bytes) else array("q", signature).tobytes()


def estimated_similarity(first: Sequence[int] | bytes, second: Sequence[int] | bytes) -> float:
    """The share of equal positions: an unbiased estimate of the Jaccard similarity of the shingle sets.

    Counted in C: the two packed signatures XORed as one integer, and its zero 8-byte words counted.
    """
    first, second = packed(first), packed(second)
    differing = int.from_bytes(first, "little") ^ int.from_bytes(second, "little")
    return array("Q", differing.to_bytes(len(first), "little")).count(0) / BINS
