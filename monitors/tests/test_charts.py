"""The check page's 24 h chart: latencies placed at their time, a gap where none was measured."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from monitors import charts

END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(hours=24)


def result(minutes_before_end, latency):
    return SimpleNamespace(at=END - timedelta(minutes=minutes_before_end), latency=latency)


def test_ten_minutes_of_latencies_take_ten_minutes_of_the_width():
    [line] = charts.latency_lines([result(10, 0.2), result(5, 0.4), result(0, 0.2)], START, END)
    xs = [float(point.split(",")[0]) for point in line.split()]
    # 600 px for 24 h: the last ten minutes are the last 4.2 px.
    assert xs == [595.8, 597.9, 600.0]


def test_a_result_without_latency_breaks_the_line():
    results = [result(30, 0.1), result(29, 0.1), result(28, None), result(27, 0.3), result(26, 0.3)]
    assert len(charts.latency_lines(results, START, END)) == 2
    # A lone point between two gaps draws nothing.
    assert (
        charts.latency_lines([result(3, None), result(2, 0.1), result(1, None)], START, END) == []
    )


def test_the_time_marks_fall_on_whole_hours():
    ticks = charts.time_ticks(START + timedelta(minutes=20), END, timedelta(hours=3))
    assert [t["at"].hour for t in ticks] == [15, 18, 21, 0, 3, 6, 9, 12]
    assert ticks[-1]["x"] == "600.0"
