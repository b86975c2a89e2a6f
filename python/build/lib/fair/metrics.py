"""Metrics a training script logs, with no dependency: one JSON line per value in
`$FAIR_METRICS_FILE`, which the training pod keeps with the model (`metrics.jsonl`)."""
from __future__ import annotations

import json
import math
import os
import sys
import time
from numbers import Real
from typing import Any, Dict, Optional


def log_metric(name: str, value: float, step: Optional[int] = None) -> None:
    """Records `value` of metric `name` (at `step`): in a training pod it is stored with the model
    (`fair models show NAME --metrics`, `run.metrics`, `run.plot()`); elsewhere it is printed."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a metric needs a name, got {name!r}")
    if isinstance(value, bool):
        raise ValueError(f"metric {name}: {value!r} is not a number")
    if not isinstance(value, Real):
        try:
            value = float(value)  # numpy and torch scalars
        except (TypeError, ValueError):
            raise ValueError(f"metric {name}: {value!r} is not a number") from None
    if step is not None and (isinstance(step, bool) or int(step) != step):
        raise ValueError(f"metric {name}: step must be an integer, got {step!r}")
    row: Dict[str, Any] = {"name": name, "value": float(value), "time": round(time.time(), 3)}
    if step is not None:
        row["step"] = int(step)
    if not math.isfinite(row["value"]):
        # JSON has no NaN or infinity: the value is kept as a string saying which.
        row["value"] = str(row["value"])
    path = os.environ.get("FAIR_METRICS_FILE")
    if not path:
        print(f"metric {name}={value}" + (f" step={step}" if step is not None else ""), file=sys.stderr)
        return
    line = (json.dumps(row, separators=(",", ":")) + "\n").encode()
    # One write on an O_APPEND descriptor: lines from several processes never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
