"""What the legacy repo itself declares: requirements with their version constraints, Python, its own name.

Read from requirements*.txt, setup.py (statically, never run), setup.cfg, pyproject.toml (PEP 621,
PEP 735 dependency groups and Poetry), Pipfile and poetry.lock, in every folder from SOURCE up to ROOT; the nearest declaration of
a distribution wins. Lock files only fill in distributions no manifest mentions.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# requirement files for development or tests constrain versions but do not make a requirement hard
SOFT_FILE = re.compile(r"(dev|test|doc|lint|ci)", re.IGNORECASE)


@dataclass
class Declared:
    requirements: dict[str, str] = field(default_factory=dict)  # canonical name -> PEP 508 string
    hard: set[str] = field(default_factory=set)  # canonical names the repo requires unconditionally
    requires_python: str | None = None
    project_name: str | None = None
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def constraint_for(self, distribution: str) -> str:
        """``PyYAML>=5.4`` when the repo declared a constraint, else the bare name."""
        declared = self.requirements.get(canonicalize_name(distribution))
        if declared is None:
            return distribution
        requirement = Requirement(declared)
        requirement.name = distribution
        if requirement.marker is not None and "extra" in str(requirement.marker):
            requirement.marker = None  # the repo's own extras mean nothing here; ours are inferred
        return str(requirement)


def read_declarations(root: Path, start: Path) -> Declared:
    declared = Declared()
    folder = start if start.is_dir() else start.parent
    folders = [folder, *[p for p in folder.parents if p == root or root in p.parents]]
    locks: list[tuple[Path, list[str]]] = []
    for current in folders:  # nearest first: a declaration already seen is not overwritten
        for path in sorted(current.glob("requirements*.txt")) + sorted(current.glob("requirements/*.txt")):
            _add(declared, path, root, _requirements_txt(path), hard=not SOFT_FILE.search(path.name))
        if (current / "setup.py").is_file():
            _read_setup_py(declared, current / "setup.py", root)
        if (current / "setup.cfg").is_file():
            _read_setup_cfg(declared, current / "setup.cfg", root)
        if (current / "pyproject.toml").is_file():
            _read_pyproject(declared, current / "pyproject.toml", root)
        if (current / "Pipfile").is_file():
            data = _toml(current / "Pipfile", declared, root)
            _add(declared, current / "Pipfile", root, [_poetry_style(n, v) for n, v in data.get("packages", {}).items()], hard=True)
            _add(declared, current / "Pipfile", root, [_poetry_style(n, v) for n, v in data.get("dev-packages", {}).items()], hard=False)
        if (current / "poetry.lock").is_file():
            data = _toml(current / "poetry.lock", declared, root)
            locks.append((current / "poetry.lock", [f"{p['name']}=={p['version']}" for p in data.get("package", []) if "name" in p and "version" in p]))
    for path, pins in locks:
        _add(declared, path, root, pins, hard=False)
    return declared


def _add(declared: Declared, path: Path, root: Path, lines: list[str], *, hard: bool) -> None:
    if not lines:
        return
    shown = path.relative_to(root).as_posix()
    if shown not in declared.files:
        declared.files.append(shown)
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            declared.warnings.append(f"{shown}: cannot read requirement '{line}'")
            continue
        name = canonicalize_name(requirement.name)
        declared.requirements.setdefault(name, line)
        if hard:
            declared.hard.add(name)


def _requirements_txt(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        # options, includes, editable installs and URLs name no constraint worth keeping
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:")):
            continue
        lines.append(line.split(" --", 1)[0].strip())  # per-requirement options such as --hash
    return lines


def _read_setup_py(declared: Declared, path: Path, root: Path) -> None:
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        declared.warnings.append(f"{path.relative_to(root).as_posix()}: cannot parse, its requirements are ignored")
        return
    assigned = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
            keywords = {k.arg: assigned.get(getattr(k.value, "id", ""), k.value) for k in node.keywords if k.arg}
            _add(declared, path, root, _literal_strings(keywords.get("install_requires")), hard=True)
            extras = _literal(keywords.get("extras_require"))
            if isinstance(extras, dict):
                _add(declared, path, root, [r for v in extras.values() for r in _strings(v)], hard=False)
            declared.requires_python = declared.requires_python or _literal(keywords.get("python_requires"))
            declared.project_name = declared.project_name or _literal(keywords.get("name"))


def _literal(node: ast.expr | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def _literal_strings(node: ast.expr | None) -> list[str]:
    return _strings(_literal(node))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


def _read_setup_cfg(declared: Declared, path: Path, root: Path) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        declared.warnings.append(f"{path.relative_to(root).as_posix()}: {exc}")
        return
    _add(declared, path, root, _strings(parser.get("options", "install_requires", fallback="")), hard=True)
    if parser.has_section("options.extras_require"):
        _add(declared, path, root, [r for _, v in parser.items("options.extras_require") for r in _strings(v)], hard=False)
    declared.requires_python = declared.requires_python or parser.get("options", "python_requires", fallback=None)
    declared.project_name = declared.project_name or parser.get("metadata", "name", fallback=None)


def _read_pyproject(declared: Declared, path: Path, root: Path) -> None:
    data = _toml(path, declared, root)
    project = data.get("project", {})
    _add(declared, path, root, list(project.get("dependencies", [])), hard=True)
    _add(declared, path, root, [r for v in project.get("optional-dependencies", {}).values() for r in v], hard=False)
    # PEP 735 groups (tests, dev): constraints only; ``{include-group = ...}`` entries name no package
    groups = data.get("dependency-groups", {})
    _add(declared, path, root, [r for v in groups.values() for r in v if isinstance(r, str)], hard=False)
    poetry = data.get("tool", {}).get("poetry", {})
    dependencies = dict(poetry.get("dependencies", {}))
    python = dependencies.pop("python", None)
    _add(declared, path, root, [_poetry_style(n, v) for n, v in dependencies.items()], hard=True)
    declared.requires_python = declared.requires_python or project.get("requires-python") or (
        _poetry_constraint(python) if isinstance(python, str) else None
    )
    declared.project_name = declared.project_name or project.get("name") or poetry.get("name")


def _toml(path: Path, declared: Declared, root: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        declared.warnings.append(f"{path.relative_to(root).as_posix()}: {exc}")
        return {}


def _poetry_style(name: str, spec: Any) -> str:
    """Poetry and Pipfile entries (``"^1.2"``, ``{version = "~1.2"}``, ``"*"``) as PEP 508 strings."""
    version = spec.get("version", "*") if isinstance(spec, dict) else spec
    return f"{name}{_poetry_constraint(version) if isinstance(version, str) else ''}"


def _poetry_constraint(version: str) -> str:
    parts = []
    for piece in (p.strip() for p in version.split(",")):
        if piece in ("", "*"):
            continue
        if piece[0] in "^~" and not piece.startswith("~="):
            numbers = [int(n) for n in re.findall(r"\d+", piece)] or [0]
            if piece[0] == "^":  # caret: up to the next change of the first non-zero number
                position = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
            else:  # tilde: up to the next minor (or major when only a major is given)
                position = min(1, len(numbers) - 1)
            upper = numbers[: position + 1]
            upper[-1] += 1
            parts += [f">={piece[1:]}", "<" + ".".join(map(str, upper))]
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        else:
            parts.append(piece)
    return ",".join(parts)
