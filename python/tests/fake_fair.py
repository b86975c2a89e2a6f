#!/usr/bin/env python3
"""Stands in for the fair command in the SDK's unit tests: records each call (its arguments, its
stdin, and the project files of a train or serve) to $FAKE_FAIR_LOG, and answers as
$FAKE_FAIR_SCRIPT says for the subcommand: stderr chunks (with pauses), a stdout JSON result, an
exit status."""
import json
import os
import sys
import time

arguments = sys.argv[1:]
record = {"arguments": arguments}
if not sys.stdin.isatty():
    try:
        record["stdin"] = sys.stdin.read()
    except OSError:
        pass
if arguments and arguments[0] in ("train", "serve", "build"):
    path = arguments[1] if arguments[0] != "serve" else arguments[2]
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    record["files"] = {}
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        full = os.path.join(directory, name)
        if os.path.isfile(full) and not name.endswith(".pickle"):
            with open(full, encoding="utf-8", errors="replace") as f:
                record["files"][name] = f.read()
with open(os.environ["FAKE_FAIR_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")

with open(os.environ["FAKE_FAIR_SCRIPT"]) as f:
    script = json.load(f)
key = " ".join(arguments[:2]) if " ".join(arguments[:2]) in script else (arguments[0] if arguments else "")
answer = script.get(key, {})
for chunk in answer.get("stderr", []):
    if isinstance(chunk, (int, float)):
        time.sleep(chunk)
        continue
    sys.stderr.write(chunk)
    sys.stderr.flush()
if "stdout" in answer:
    value = answer["stdout"]
    sys.stdout.write(value if isinstance(value, str) else json.dumps(value))
    sys.stdout.write("\n")
sys.exit(answer.get("status", 0))
