"""Inline SVG geometry for the pages (no JavaScript library): numbers only, escaped nowhere
because nothing from a source reaches it."""


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
