"""The same project gives byte-identical archives: built twice, or copied elsewhere with other
mtimes, owners and permission bits."""
import os
import shutil

from conftest import FIXTURES


def test_two_builds_are_byte_identical(fair, base_image, tmp_path):
    for name in ["plain-python", "notebook"]:
        a = fair.build_json(FIXTURES / name, "--base", f"oci-archive:{base_image}", "--output", tmp_path / f"{name}-a.tar")
        b = fair.build_json(FIXTURES / name, "--base", f"oci-archive:{base_image}", "--output", tmp_path / f"{name}-b.tar")
        assert a["digest"] == b["digest"]
        assert (tmp_path / f"{name}-a.tar").read_bytes() == (tmp_path / f"{name}-b.tar").read_bytes()


def test_a_copy_with_other_mtimes_owners_and_modes_is_identical(fair, base_image, tmp_path):
    original = fair.build_json(FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}", "--output", tmp_path / "a.tar")

    copy = tmp_path / "elsewhere" / "deeper" / "plain-python"
    shutil.copytree(FIXTURES / "plain-python", copy)
    for index, (root, dirs, files) in enumerate(os.walk(copy)):
        for name in dirs + files:
            path = os.path.join(root, name)
            os.utime(path, (1_600_000_000 + index, 1_700_000_000 + index * 7))
            os.chown(path, 1234, 5678)
            if name in files and not os.access(path, os.X_OK):
                os.chmod(path, 0o600)
    os.chmod(copy / "data", 0o700)

    moved = fair.build_json(copy, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "b.tar")
    assert moved["digest"] == original["digest"]
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_source_date_epoch_changes_times_and_nothing_else(fair, tmp_path):
    default = fair.build_json(FIXTURES / "plain-python", "--base", "scratch", "--output", tmp_path / "a.tar")
    dated = fair.build_json(FIXTURES / "plain-python", "--base", "scratch", "--output", tmp_path / "b.tar",
                            env={"SOURCE_DATE_EPOCH": "1700000000"})
    again = fair.build_json(FIXTURES / "plain-python", "--base", "scratch", "--output", tmp_path / "c.tar",
                            env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert dated["digest"] != default["digest"]
    assert dated["digest"] == again["digest"]
