"""The checks every file passes before upload (`twine check --strict`), and the form it is sent as."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from maestro_cli.errors import InputError
from maestro_cli.publish.distfiles import collect_inputs, form_fields, read_distribution

pytestmark = pytest.mark.slow


def _wheel(files: list[Path]) -> Path:
    return next(f for f in files if f.suffix == ".whl")


def test_a_good_wheel_is_read_with_its_hashes_and_fields(built):
    wheel = _wheel(built(dependencies=("packaging>=20", "rich; extra == 'color'")))
    dist = read_distribution(wheel)
    assert (dist.filetype, dist.pyversion, dist.size) == ("bdist_wheel", "py3", wheel.stat().st_size)
    fields = form_fields(dist)
    names = [name for name, _ in fields]
    assert names.count("requires_dist") == 2  # one part per value
    assert ("requires_python", ">=3.9") in fields
    assert ("sha256_digest", dist.sha256) in fields and "blake2_256_digest" in names
    assert ("description_content_type", "text/markdown") in fields
    assert dist.dependencies() == {"packaging", "rich"}


def test_a_renamed_file_disagrees_with_its_metadata(built, tmp_path):
    wheel = _wheel(built())
    renamed = tmp_path / wheel.name.replace("-1.0.0-", "-2.0.0-")
    shutil.copy(wheel, renamed)
    with pytest.raises(InputError, match=r"the file name says .* 2\.0\.0 but its metadata says .* 1\.0\.0"):
        read_distribution(renamed)


def test_restructuredtext_that_does_not_render_is_refused(built, tmp_path):
    wheel = _wheel(built())
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("METADATA"):
                data = data.replace(b"text/markdown", b"text/x-rst").split(b"\n\n")[0] + b"\n\nTitle\n=\n\n.. broken:: directive\n"
            target.writestr(item, data)
    with pytest.raises(InputError, match=r"the reStructuredText long description does not render"):
        read_distribution(broken)


def test_a_missing_description_is_refused(built):
    wheel = _wheel(built(readme=""))
    with pytest.raises(InputError, match=r"the long description is missing"):
        read_distribution(wheel)


def test_not_a_distribution(tmp_path):
    fake = tmp_path / "fake-1.0-py3-none-any.whl"
    fake.write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"fake-1\.0-py3-none-any\.whl: not a readable distribution"):
        read_distribution(fake)


def test_inputs_sort_projects_files_and_folders(built, tmp_path):
    files = built()
    project = tmp_path / "src"
    project_dir = next(project.iterdir())
    inputs = collect_inputs([project_dir, files[0].parent])
    assert inputs.projects == [project_dir]
    assert sorted(inputs.files) == sorted(files)
    with pytest.raises(InputError, match="no distributions"):
        collect_inputs([tmp_path / "src" / project_dir.name / "src"])


def test_a_file_that_passed_is_not_checked_again_unless_renamed(built, tmp_path, monkeypatch):
    from maestro_cli.publish import distfiles
    from maestro_cli.publish.distfiles import read_distributions

    files = built(dependencies=("packaging>=20",))
    cache = tmp_path / "cache"
    first = read_distributions(files, cache_dir=cache)
    assert (cache / "publish" / "checked.json").is_file()

    def unreadable(path: Path) -> bytes:
        raise InputError(f"{path}: read again")

    monkeypatch.setattr(distfiles, "_metadata_bytes", unreadable)
    again = read_distributions(files, cache_dir=cache)
    assert [(d.filename, d.sha256, d.project, d.dependencies(), form_fields(d)) for d in again] == [
        (d.filename, d.sha256, d.project, d.dependencies(), form_fields(d)) for d in first
    ]
    renamed = tmp_path / files[0].name.replace("-1.0.0", "-2.0.0")  # same bytes, another name: checked
    shutil.copy(files[0], renamed)
    with pytest.raises(InputError, match="read again"):
        read_distributions([renamed], cache_dir=cache)
    with pytest.raises(InputError, match="read again"):
        read_distributions(files)  # no cache folder: every file is checked


def test_a_file_that_failed_is_checked_every_time(built, tmp_path):
    from maestro_cli.publish.distfiles import read_distributions

    wheel = _wheel(built(readme=""))
    for _ in range(2):
        with pytest.raises(InputError, match=r"the long description is missing"):
            read_distributions([wheel], cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "publish" / "checked.json").exists()
