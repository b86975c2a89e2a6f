import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_fair.py")


class FakeFair:
    """The fake fair command: `answer(subcommand, …)` says what it does; `calls` are what it got."""

    def __init__(self, directory):
        self.log = directory / "calls.jsonl"
        self.script = directory / "script.json"
        self.answers = {}
        self.script.write_text("{}")

    def answer(self, subcommand, stdout=None, stderr=(), status=0):
        entry = {"stderr": list(stderr), "status": status}
        if stdout is not None:
            entry["stdout"] = stdout
        self.answers[subcommand] = entry
        self.script.write_text(json.dumps(self.answers))

    @property
    def calls(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIR_BIN", FAKE)
    monkeypatch.setenv("FAKE_FAIR_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_FAIR_SCRIPT", str(tmp_path / "script.json"))
    monkeypatch.delenv("FAIR_MODEL_DIR", raising=False)
    monkeypatch.delenv("FAIR_METRICS_FILE", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return FakeFair(tmp_path)
