"""The live transfer display in a real terminal (tmux), at 40, 80 and 200 columns: every blob's
line drawn once and cut to the width (a wrapped line would make the next redraw land a row off),
the pushed reference printed once, lines that other code prints kept above the bars."""
import re
import shutil
import subprocess
import time

import pytest

from conftest import FIXTURES, Fair, fair_binary
from server_harness import FairServer

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("progress") / "data", extra=["--no-node"]).start()
    yield server
    server.stop()


def tmux(*args, check=True):
    return subprocess.run(["tmux", *map(str, args)], capture_output=True, text=True, check=check, timeout=30)


@pytest.mark.parametrize("width", [40, 80, 200])
def test_push_progress_fits_the_terminal_and_draws_each_line_once(server, base_image, tmp_path, width):
    home = tmp_path / "home"
    home.mkdir()
    archive = tmp_path / "image.tar"
    built = Fair(home).build_json(FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}", "--output", archive)
    blobs = [layer["digest"].split(":")[1][:12] for layer in built["layers"]]
    reference = f"{server.registry}/progress/w{width}:v1"
    session = f"fair-progress-{width}-{int(time.time() * 1000) % 100000}"
    command = (f"env TERM=xterm KUBECONFIG={server.kubeconfig} FAIR_HOME={home} {fair_binary()} push {archive} {reference}; "
               f"echo EXIT=$?; sleep 60")
    tmux("new-session", "-d", "-s", session, "-x", width, "-y", 60, command)
    try:
        deadline = time.monotonic() + 120
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-J", "-t", session).stdout
            if "EXIT=" in screen:
                break
            time.sleep(0.2)
        rows = tmux("capture-pane", "-p", "-t", session).stdout.splitlines()
    finally:
        tmux("kill-session", "-t", session, check=False)
    assert "EXIT=0" in screen, screen
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    for blob in blobs:
        drawn = [line for line in lines if line.startswith(blob)]
        assert len(drawn) == 1, (blob, screen)
        assert len(drawn[0]) < width, (width, drawn[0])
        assert drawn[0].endswith(("done", "exists", "mounted")), drawn[0]
    assert len([line for line in lines if line.startswith("pushed ")]) == 1, screen
    assert not re.search(r"(pushing|done|exists)\w", screen), screen  # no word drawn over the end of another
    # Bars never wrap: every screen row that starts with a digest is a whole bar line.
    assert all(len(row.rstrip()) < width for row in rows if re.match(r"^[0-9a-f]{12} ", row)), rows
    if width >= 80:
        assert any(re.search(r"\[=+\]", line) for line in lines), screen  # the full bar
        assert any("/s" in line for line in lines if line.startswith(tuple(blobs))), screen  # the speed
