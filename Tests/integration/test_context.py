"""Build context edge cases: ignore rules, symlinks, special files, unreadable files, big files."""
import os
import shutil
import tempfile
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import run


def layer_members(archive, tmp_path, position=-1):
    """The entries of one layer (default: the last, the code layer) of a single-image oci-archive."""
    import json
    with tarfile.open(archive) as outer:
        index = json.load(outer.extractfile("index.json"))
        manifest_digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.load(outer.extractfile(f"blobs/sha256/{manifest_digest}"))
        layer = manifest["layers"][position]["digest"].split(":")[1]
        outer.extract(f"blobs/sha256/{layer}", tmp_path / "x")
    with tarfile.open(tmp_path / "x" / "blobs" / "sha256" / layer) as inner:
        return {member.name.rstrip("/"): member for member in inner.getmembers()}


def test_ignore_rules_symlinks_and_special_files(fair, tmp_path):
    p = tmp_path / "p"
    (p / "data" / "raw").mkdir(parents=True)
    (p / "__pycache__").mkdir()
    (p / "fair.yaml").write_text("entrypoint: train.py\n")
    (p / "train.py").write_text("print('x')\n")
    (p / "data" / "raw" / "a.csv").write_text("1\n")
    (p / "data" / "raw" / "keep.csv").write_text("2\n")
    (p / "data" / "model.ckpt").write_text("big\n")
    (p / "run.log").write_text("log\n")
    (p / "data" / "keep.log").write_text("only root-level *.log is ignored, as in docker\n")
    (p / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (p / ".fairignore").write_text("data/raw\n!data/raw/keep.csv\n**/*.ckpt\n*.log\n")
    os.symlink("data/raw/keep.csv", p / "latest.csv")
    os.mkfifo(p / "pipe")
    out = tmp_path / "out.tar"
    result = fair.run("build", p, "--base", "scratch", "--output", out)
    assert "skipping pipe" in result.stderr

    members = layer_members(out, tmp_path)
    assert "app/data/raw/keep.csv" in members
    assert "app/data/raw/a.csv" not in members
    assert "app/data/model.ckpt" not in members
    assert "app/run.log" not in members and "app/data/keep.log" in members
    assert "app/__pycache__" not in members and "app/pipe" not in members
    link = members["app/latest.csv"]
    assert link.issym() and link.linkname == "data/raw/keep.csv"
    # Parents are written explicitly, and in sorted order.
    names = [name for name in members]
    assert names == sorted(names, key=lambda n: n.encode())
    assert "app/data/raw" in members and members["app/data/raw"].isdir()
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.mtime == 315532800 for m in members.values())


def test_long_and_non_ascii_names(fair, tmp_path):
    p = tmp_path / "p"
    deep = p / ("d" * 60) / ("e" * 60) / ("f" * 60)
    deep.mkdir(parents=True)
    (p / "fair.yaml").write_text("entrypoint: train.py\n")
    (p / "train.py").write_text("print('x')\n")
    (deep / ("long-name-" + "x" * 120 + ".txt")).write_text("long\n")
    (p / "données-été-模型.txt").write_text("utf8\n")
    out = tmp_path / "out.tar"
    fair.run("build", p, "--base", "scratch", "--output", out)
    members = layer_members(out, tmp_path)
    assert f"app/{'d' * 60}/{'e' * 60}/{'f' * 60}/long-name-{'x' * 120}.txt" in members
    assert "app/données-été-模型.txt" in members


@pytest.fixture
def world_readable_tmp():
    """A directory outside pytest's private (0700) temp root, so an unprivileged user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="fair-unreadable-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreadable_file_is_an_error(fair, world_readable_tmp):
    tmp_path = world_readable_tmp
    p = tmp_path / "p"
    p.mkdir()
    (p / "fair.yaml").write_text("entrypoint: train.py\n")
    (p / "train.py").write_text("print('x')\n")
    (p / "secret.txt").write_text("no\n")
    os.chmod(p / "secret.txt", 0o000)
    os.chmod(tmp_path, 0o755)
    home = tmp_path / "home-nobody"
    home.mkdir()
    os.chmod(home, 0o777)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    os.chmod(out_dir, 0o777)
    # As root every file is readable, so run as an unprivileged user.
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", fair.binary, "build", p, "--base", "scratch",
         "--output", out_dir / "out.tar"], env={**os.environ, "FAIR_HOME": str(home), "HOME": str(home)},
        capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "secret.txt" in result.stderr and "permission denied" in result.stderr
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_two_gib_file_streams_in_bounded_memory(fair, tmp_path, compression):
    p = tmp_path / "p"
    p.mkdir()
    (p / "fair.yaml").write_text("entrypoint: train.py\n")
    (p / "train.py").write_text("print('x')\n")
    with open(p / "weights.bin", "wb") as f:
        f.truncate(2 << 30)  # 2 GiB (sparse on disk, but read in full)
    out = tmp_path / "out.tar"
    # Measured in a fresh process whose only child is fair, so nothing else's peak counts.
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    result = subprocess.run(["python3", "-c", probe, fair.binary, "build", p, "--base", "scratch", "--output", out, "-q",
                             "--compression", compression],
                            env={**os.environ, "FAIR_HOME": str(fair.home)}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    peak_kib = int(result.stdout.strip().splitlines()[-1])
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
    if compression == "gzip":
        # A big non-code file: in the assets layer, below the code.
        members = layer_members(out, tmp_path, position=-2)
        assert members["app/weights.bin"].size == 2 << 30
        assert "app/weights.bin" not in layer_members(out, tmp_path / "code")
    else:
        run("tar", "-xf", out, "-C", tmp_path, "--wildcards", "blobs/*")
        layer = max((tmp_path / "blobs" / "sha256").iterdir(), key=lambda f: f.stat().st_size)
        listing = run("sh", "-c", f"zstd -dc '{layer}' | tar -tvf - app/weights.bin").stdout
        assert str(2 << 30) in listing
