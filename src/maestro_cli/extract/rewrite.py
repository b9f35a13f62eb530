"""Rewriting imports to the new package name with libcst, keeping formatting and comments.

Handles ``import a.b.c as m``, ``from a.b import c``, ``from a.b.c import X``, dotted uses such as
``a.b.c.f()`` after ``import a.b.c``, and dotted string targets such as ``mock.patch("a.b.c.X")`` or
``monkeypatch.setattr("a.b.c.X", ...)``. Relative imports that stay inside what moves together are
left alone; one that climbs out (``from .. import config`` at the top of SOURCE) becomes absolute.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import libcst as cst
from packaging.utils import canonicalize_name

from .analysis import resolve_relative

DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# "config.json" next to a package named config is a file name, not a dotted target: a string of
# two parts ending in one of these is left alone (a patch target names a module and then an attribute)
FILE_SUFFIXES = frozenset(
    {"py", "pyi", "json", "yaml", "yml", "toml", "cfg", "ini", "conf", "txt", "csv", "tsv", "sql", "html",
     "htm", "xml", "log", "md", "rst", "j2", "jinja", "jinja2", "db", "sqlite", "pem", "crt", "png", "jpg",
     "gif", "svg", "css", "js", "lock", "zip", "gz", "tar", "whl"}
)


# importlib.metadata (and pkg_resources) calls whose first argument names a distribution
METADATA_CALLS = frozenset({"version", "metadata", "distribution", "files", "requires", "get_distribution", "require"})


class Renames:
    """Old dotted prefixes -> new ones; the longest matching prefix wins. ``distributions`` maps the
    legacy distribution's canonical name to the new one, for metadata lookups such as
    ``importlib.metadata.version("click")``."""

    def __init__(self, mapping: Mapping[str, str], distributions: Mapping[str, str] | None = None) -> None:
        self.mapping = dict(mapping)
        self.distributions = dict(distributions or {})
        self._ordered = sorted(self.mapping, key=lambda k: -k.count("."))

    def __bool__(self) -> bool:
        return any(old != new for old, new in [*self.mapping.items(), *self.distributions.items()])

    def apply(self, dotted: str) -> str | None:
        """The renamed name, or None when no prefix applies."""
        for old in self._ordered:
            if dotted == old or dotted.startswith(old + "."):
                return self.mapping[old] + dotted[len(old) :]
        return None


def rewrite_source(source: bytes, renames: Renames, *, package: str = "", new_package: str = "") -> bytes:
    """The module with its imports renamed; unchanged bytes when nothing applies.

    ``package`` and ``new_package`` are the file's package before and after the move: a relative
    import that would not land on the renamed target from there becomes absolute.
    """
    module = cst.parse_module(source)
    rewritten = module.visit(_ImportRenamer(renames, _bound_heads(module, renames), package, new_package))
    return rewritten.bytes if rewritten is not module else source


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def _expression(dotted: str) -> cst.Name | cst.Attribute:
    parts = dotted.split(".")
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _bound_heads(module: cst.Module, renames: Renames) -> set[str]:
    """Names bound by a plain ``import a.b.c`` of a renamed module: their dotted uses get renamed too."""
    heads: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                name = _dotted(alias.name)
                # a whole top-level module keeps its name through an alias (see leave_Import)
                if alias.asname is None and name and "." in name and renames.apply(name) is not None:
                    heads.add(name.split(".")[0])

    module.visit(Finder())
    return heads


class _ImportRenamer(cst.CSTTransformer):
    def __init__(self, renames: Renames, heads: set[str], package: str, new_package: str) -> None:
        self.renames = renames
        self.heads = heads
        self.package = package
        self.new_package = new_package
        self.in_import = 0
        self.replacements: dict[int, str] = {}
        self.distribution_args: set[int] = set()  # string nodes naming the legacy distribution

    # -- import statements ---------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        self.in_import += 1
        return False

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        self.in_import -= 1
        names = []
        for alias in updated.names:
            old = _dotted(alias.name) or ""
            new = self.renames.apply(old)
            if new is None:
                names.append(alias)
            elif alias.asname is None and "." not in old:
                # ``import click`` -> ``import x_click as click``: every use of the bare name, which
                # cannot be told from a local of the same name without scope analysis, still works
                names.append(alias.with_changes(name=_expression(new), asname=cst.AsName(name=cst.Name(old))))
            else:
                names.append(alias.with_changes(name=_expression(new)))
        return updated.with_changes(names=names)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.in_import += 1
        return False

    def leave_ImportFrom(
        self, original: cst.ImportFrom, updated: cst.ImportFrom
    ) -> cst.BaseSmallStatement | cst.FlattenSentinel[cst.BaseSmallStatement]:
        self.in_import -= 1
        if updated.relative:
            target = self._leaving(updated)
            if target is None:
                return updated
            updated = updated.with_changes(relative=[], module=_expression(target))
        if updated.module is None:
            return updated
        module = _dotted(updated.module) or ""
        new_module = self.renames.apply(module)
        renamed = updated.with_changes(module=_expression(new_module)) if new_module else updated
        if isinstance(updated.names, cst.ImportStar):
            return renamed
        # ``from shared import resilience`` where ``shared.resilience`` moves on its own: the name
        # becomes ``import new as resilience``; the names that stay keep the ``from`` form
        kept, moved = [], []
        for alias in updated.names:
            name = _dotted(alias.name) or ""
            target = self.renames.apply(f"{module}.{name}")
            if target is None or (new_module is not None and target == f"{new_module}.{name}"):
                kept.append(alias.with_changes(comma=cst.MaybeSentinel.DEFAULT))
            else:
                as_name = alias.asname or cst.AsName(name=cst.Name(name))
                moved.append(cst.Import(names=[cst.ImportAlias(name=_expression(target), asname=as_name)]))
        if not moved:
            return renamed
        statements: list[cst.BaseSmallStatement] = [renamed.with_changes(names=kept)] if kept else []
        return cst.FlattenSentinel([*statements, *moved])

    def _leaving(self, node: cst.ImportFrom) -> str | None:
        """The legacy module a relative import names, when the same dots would miss it after the move."""
        if not self.package or self.renames.apply(self.package) is None:
            return None  # a file whose package is not renamed (a carried test) moves with its neighbours
        name = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        old = resolve_relative(name or "", level, self.package)
        if old is None:  # it climbs above the legacy repo's top package: broken there too
            return None
        return None if resolve_relative(name or "", level, self.new_package) == (self.renames.apply(old) or old) else old

    # -- uses ----------------------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> bool:
        """Whole dotted chains whose head an ``import`` bound: ``a.b.c.f`` -> ``new.f``.

        A bare module name used alone (``reload(a)``) is left as it is: telling it from a local
        variable or a keyword argument of the same name needs scope analysis.
        """
        dotted = _dotted(node)
        if self.in_import or dotted is None or dotted.split(".")[0] not in self.heads:
            return True
        new = self.renames.apply(dotted)
        if new is None:
            return True
        self.replacements[id(node)] = new
        return False

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        new = self.replacements.pop(id(original), None)
        if new is None:
            return updated
        return _expression(new).with_changes(lpar=updated.lpar, rpar=updated.rpar)

    def visit_Call(self, node: cst.Call) -> bool:
        name = _dotted(node.func) or ""
        first = node.args[0].value if node.args else None
        if name.rsplit(".", 1)[-1] in METADATA_CALLS and isinstance(first, cst.SimpleString):
            value = first.evaluated_value
            if isinstance(value, str) and canonicalize_name(value) in self.renames.distributions:
                self.distribution_args.add(id(first))
        return True

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        if id(original) in self.distribution_args:
            return _with_text(updated, self.renames.distributions[canonicalize_name(str(updated.evaluated_value))])
        value = updated.evaluated_value
        if not isinstance(value, str) or not DOTTED.fullmatch(value) or "." not in value or _is_file_name(value):
            return updated
        new = self.renames.apply(value)
        return updated if new is None else _with_text(updated, new)


def _with_text(node: cst.SimpleString, text: str) -> cst.SimpleString:
    """The same string literal (prefix and quotes kept) holding ``text``."""
    return node.with_changes(value=f"{node.value[: len(node.prefix)]}{node.quote}{text}{node.quote}")


def _is_file_name(value: str) -> bool:
    stem, _, suffix = value.rpartition(".")
    return "." not in stem and suffix.lower() in FILE_SUFFIXES
