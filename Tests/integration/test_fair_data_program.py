"""The data pod's program (`Templates/fair-data.py`) on its own: it serves the claim only to the
transfer that started it. Other pods can reach a pod's address, so a request without the
transfer's token is refused, and the program does not start without one."""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from server_harness import free_port, wait_for

PROGRAM = Path(__file__).resolve().parents[2] / "Templates" / "fair-data.py"
TOKEN = "t" * 64


@pytest.fixture
def serving(tmp_path):
    (tmp_path / "claim").mkdir()
    (tmp_path / "claim" / "secret.txt").write_text("weights\n")
    port = free_port()
    process = subprocess.Popen([sys.executable, str(PROGRAM), "--root", str(tmp_path / "claim"), "--bind", "127.0.0.1",
                                "--port", str(port), "--idle-timeout", "60"],
                               env={**os.environ, "FAIR_DATA_TOKEN": TOKEN}, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
        except OSError:
            return False
    wait_for(up, timeout=20, what="fair-data.py to listen")
    yield base
    process.kill()
    process.wait()


def fetch(url, token=None, method="GET", data=None):
    request = urllib.request.Request(url, method=method, data=data)
    if token is not None:
        request.add_header("X-Fair-Data-Token", token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_only_the_transfers_token_reads_or_writes(serving, tmp_path):
    assert fetch(f"{serving}/files/secret.txt", TOKEN) == (200, b"weights\n")
    for token in (None, "", "t" * 63, "x" * 64):
        status, body = fetch(f"{serving}/files/secret.txt", token)
        assert status == 401 and b"weights" not in body, (token, status, body)
        assert fetch(f"{serving}/manifest", token)[0] == 401
        assert fetch(f"{serving}/files/planted.txt", token, method="PUT", data=b"x")[0] == 401
    assert not (tmp_path / "claim" / "planted.txt").exists()
    # The readiness probe needs no token and learns nothing.
    assert fetch(f"{serving}/healthz") == (200, b"ok\n")


def test_it_does_not_start_without_a_token(tmp_path):
    (tmp_path / "claim").mkdir()
    for environment in ({}, {"FAIR_DATA_TOKEN": "short"}):
        result = subprocess.run([sys.executable, str(PROGRAM), "--root", str(tmp_path / "claim"), "--bind", "127.0.0.1",
                                 "--port", str(free_port())],
                                env={k: v for k, v in {**os.environ, **environment}.items() if k != "FAIR_DATA_TOKEN" or environment},
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and "FAIR_DATA_TOKEN" in result.stderr, result.stderr
