"""Metric charts with matplotlib (used when installed, never required)."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

from .errors import FairError


def plot_metrics(rows: List[Dict[str, Any]], names: Sequence[str] = (), title: str = "") -> Any:
    """One line per metric over its steps (the order logged where there are no steps); returns the
    matplotlib Figure, which Jupyter shows inline."""
    try:
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError as error:
        raise FairError("plot() needs matplotlib (pip install matplotlib); run.metrics gives the values") from error
    series: Dict[str, List[Any]] = {}
    for row in rows:
        name = str(row.get("name", ""))
        if names and name not in names:
            continue
        value = row.get("value")
        if isinstance(value, (int, float)):
            series.setdefault(name, []).append((row.get("step"), float(value)))
    if not series:
        raise FairError("no metrics to plot" + (f" named {', '.join(names)}" if names else ""))
    figure, axes = plt.subplots(figsize=(7, 4))
    for name, points in series.items():
        steps = [step if step is not None else index for index, (step, _) in enumerate(points)]
        axes.plot(steps, [value for _, value in points], marker="o" if len(points) < 30 else None, label=name)
    axes.set_xlabel("step")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    plt.close(figure)
    return figure
