from __future__ import annotations

from pathlib import Path

from maestro_cli.extract.declared import read_declarations


def test_requirement_files_setup_py_and_nearest_first(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# deploy pins\nPyYAML>=5.4  # config\nrequests==2.31.0 --hash=sha256:abc\n-r base.txt\n-e .\n")
    (tmp_path / "requirements-dev.txt").write_text("pytest>=7\n")
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nDEPS = ['click>=8']\n"
        "setup(name='acme-platform', install_requires=DEPS, python_requires='>=3.9', extras_require={'x': ['rich']})\n"
    )
    service = tmp_path / "services" / "billing"
    service.mkdir(parents=True)
    (service / "requirements.txt").write_text("requests>=2.28\n")
    declared = read_declarations(tmp_path, service)
    assert declared.requirements["requests"] == "requests>=2.28"  # the service's own pin is nearer
    assert declared.requirements["pyyaml"] == "PyYAML>=5.4"
    assert declared.requirements["click"] == "click>=8"
    assert declared.hard >= {"requests", "pyyaml", "click"}
    assert "pytest" not in declared.hard and "rich" not in declared.hard
    assert (declared.requires_python, declared.project_name) == (">=3.9", "acme-platform")
    assert declared.constraint_for("PyYAML") == "PyYAML>=5.4"


def test_setup_cfg_pyproject_poetry_pipfile_and_lock(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = legacy\n[options]\ninstall_requires =\n    attrs>=21\n")
    (tmp_path / "pyproject.toml").write_text(
        '[dependency-groups]\ntests = ["greenlet>=3", {include-group = "dev"}]\n'
        '[tool.poetry]\nname = "legacy"\n[tool.poetry.dependencies]\npython = "^3.8"\nhttpx = "^0.24.1"\n'
        'pendulum = {version = "~2.1"}\nanything = "*"\n'
    )
    (tmp_path / "Pipfile").write_text('[packages]\nflask = ">=2"\n')
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "httpx"\nversion = "0.24.1"\n[[package]]\nname = "idna"\nversion = "3.4"\n')
    declared = read_declarations(tmp_path, tmp_path)
    assert declared.requirements["attrs"] == "attrs>=21"
    assert declared.requirements["httpx"] == "httpx>=0.24.1,<0.25"
    assert declared.requirements["pendulum"] == "pendulum>=2.1,<2.2"
    assert declared.requirements["anything"] == "anything"
    assert declared.requirements["flask"] == "flask>=2"
    assert declared.requirements["idna"] == "idna==3.4"  # the lock only fills gaps
    assert declared.requirements["greenlet"] == "greenlet>=3" and "greenlet" not in declared.hard
    assert "idna" not in declared.hard
    assert declared.requires_python == ">=3.8,<4"


def test_an_unreadable_requirement_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("this is not a requirement\n")
    declared = read_declarations(tmp_path, tmp_path)
    assert declared.warnings == ["requirements.txt: cannot read requirement 'this is not a requirement'"]
