"""Metrics a training logs with fair.log_metric (the SDK imported in the pod from fair's tools
ConfigMap, nothing installed in the image): stored with the model as metrics.jsonl, shown by
`fair models show --metrics`, compared by `fair models compare`, and drawn by `--plot` into a PNG
and an SVG, against a real `fair server`."""
import json
import struct
import zlib

import pytest

from conftest import Fair, fair_binary
from server_harness import FairServer

TRAIN = '''import fair, json, os
scale = float(os.environ.get("SCALE", "1"))
for step in range(50):
    fair.log_metric("loss", scale / (step + 1), step=step)
    if step % 10 == 9:
        fair.log_metric("accuracy", 1 - scale / (step + 2), step=step)
with open(os.path.join(os.environ["FAIR_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"scale": scale}, f)
'''


@pytest.fixture(scope="module")
def trained(tmp_path_factory, base_image):
    directory = tmp_path_factory.mktemp("metrics")
    server = FairServer(fair_binary(), directory / "data").start()
    project = directory / "curve"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    fair = Fair(directory / "home")
    env = {"KUBECONFIG": str(server.kubeconfig)}
    try:
        for scale in ("1", "2"):
            report = json.loads(fair.run("train", project, "--base", f"oci-archive:{base_image}", "--env", f"SCALE={scale}",
                                         "--output-format", "json", env=env).stdout)
            assert report["state"] == "complete", report
        yield fair, env, directory
    finally:
        server.stop()


def test_fifty_logged_steps_are_stored_with_the_model(trained, tmp_path):
    fair, env, _ = trained
    fair.run("models", "pull", "curve:v1", "--output", tmp_path / "v1", env=env)
    lines = (tmp_path / "v1" / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len([r for r in rows if r["name"] == "loss"]) == 50 and len(rows) == 55
    assert rows[0]["name"] == "loss" and rows[0]["value"] == 1.0 and rows[0]["step"] == 0
    shown = json.loads(fair.run("models", "show", "curve:v1", "--metrics", "--output-format", "json", env=env).stdout)
    assert shown["metrics"] == {"loss": 0.02, "accuracy": 1 - 1 / 51}, "the last values, as the annotation"
    assert [p["step"] for p in shown["series"]["loss"]] == list(range(50))
    text = fair.run("models", "show", "curve:v1", "--metrics", env=env).stdout
    loss = next(line for line in text.splitlines() if line.strip().startswith("loss"))
    assert "0.02" in loss and "█" in loss and "▁" in loss and "(50 values, steps 0–49)" in loss, text


def test_two_versions_compared(trained):
    fair, env, _ = trained
    compared = json.loads(fair.run("models", "compare", "curve:v1", "curve:v2", "--output-format", "json", env=env).stdout)
    assert compared["models"] == ["curve:v1", "curve:v2"]
    assert compared["metrics"]["loss"] == [0.02, 0.04]
    text = fair.run("models", "compare", "curve:v1", "curve:v2", env=env).stdout.splitlines()
    assert text[0].split() == ["METRIC", "curve:v1", "curve:v2", "CHANGE"]
    assert text[1].split() == ["loss", "0.02", "0.04", "+0.02", "(+100.0%)"], text


def png_pixels(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB PNG, decoded with zlib alone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])[0], kind
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour = header[:4]
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert len(raw) == stride * height and all(raw[row * stride] == 0 for row in range(height))
    return width, height, [raw[row * stride + 1:(row + 1) * stride] for row in range(height)]


def test_plots_are_written_as_png_and_svg(trained, tmp_path):
    fair, env, _ = trained
    fair.run("models", "show", "curve:v1", "--plot", tmp_path / "v1.png", env=env)
    width, height, rows = png_pixels(tmp_path / "v1.png")
    assert (width, height) == (720, 400)
    pixels = {bytes(row[i:i + 3]) for row in rows for i in range(0, len(row), 3)}
    assert b"\xff\xff\xff" in pixels and len(pixels) >= 4, "a white background with axes, text and two coloured lines"
    assert bytes([31, 119, 180]) in pixels and bytes([255, 127, 14]) in pixels
    fair.run("models", "compare", "curve:v1", "curve:v2", "--plot", tmp_path / "both.svg", env=env)
    svg = (tmp_path / "both.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<polyline") == 5, "the axes and four lines"
    for label in ("curve:v1 loss", "curve:v2 accuracy"):
        assert label in svg
    failed = fair.run("models", "show", "curve:v1", "--plot", tmp_path / "chart.jpg", env=env, check=False)
    assert failed.returncode != 0 and "must end in .png or .svg" in failed.stderr
    assert not (tmp_path / "chart.jpg").exists()
