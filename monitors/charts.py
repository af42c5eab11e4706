"""Inline SVG geometry for the pages (no JavaScript library): numbers only, escaped nowhere
because nothing from a source reaches it."""

import math
from datetime import timedelta


def sparkline(latencies, width=120, height=24):
    """The `points` of an SVG polyline for latencies (seconds, None skipped)."""
    values = [v for v in latencies if v is not None]
    if len(values) < 2:
        return ""
    top = max(values) or 1
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}" for i, v in enumerate(values)
    )


def bands(results, start, end, width=600):
    """Up/down rectangles over [start, end): [{"x", "w", "ok"}], one per result until the next."""
    span = (end - start).total_seconds() or 1
    out = []
    for index, result in enumerate(results):
        stop = results[index + 1].at if index + 1 < len(results) else end
        x = (result.at - start).total_seconds() / span * width
        w = max((stop - result.at).total_seconds() / span * width, 0.5)
        out.append({"x": f"{x:.1f}", "w": f"{w:.1f}", "ok": result.ok})
    return out


def latency_lines(results, start, end, width=600, height=60):
    """The `points` of one SVG polyline per run of results with a latency, each placed at its
    time over [start, end): a failure without one (a timeout, a refused connection) leaves a
    gap rather than being joined across, and ten minutes of data take ten minutes' width."""
    span = (end - start).total_seconds() or 1
    measured = [r.latency for r in results if r.latency is not None]
    top = max(measured, default=0) or 1
    lines, points = [], []
    for result in results:
        if result.latency is None:
            if points:
                lines.append(points)
            points = []
            continue
        x = (result.at - start).total_seconds() / span * width
        y = height - (result.latency / top) * (height - 2) - 1
        points.append(f"{x:.1f},{y:.1f}")
    if points:
        lines.append(points)
    return [" ".join(line) for line in lines if len(line) > 1]


def time_ticks(start, end, every, width=600):
    """[{"x", "at"}]: where the whole `every` (a timedelta) marks fall over [start, end]."""
    span = (end - start).total_seconds() or 1
    step = every.total_seconds()
    first = math.ceil(start.timestamp() / step) * step
    ticks = []
    at = first
    while at <= end.timestamp():
        moment = start + timedelta(seconds=at - start.timestamp())
        ticks.append({"x": f"{(at - start.timestamp()) / span * width:.1f}", "at": moment})
        at += step
    return ticks
