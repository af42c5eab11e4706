"""The board's layout in Debian's chromium, measured on the page (issue 14): the title gets the
width from 1280 px, the board is usable at 1024 px, a newcomer at 1366x768 sees 8 rows.

VIGIE_SCREENSHOTS=dir keeps a screenshot of each size there, to look at."""

import os

import pytest
from django.utils import timezone

from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage.demo import ISSUES
from triage.tests.factories import ItemFactory, SourceFactory
from triage.tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Per row: each cell's box, whether every word of the title fits its column (so none has to be
# cut: overflow-wrap only breaks a word wider than the line), and where the culprit sits.
MEASURE = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
  const wordsFit = (link) => {
    const cell = link.closest("td"), style = getComputedStyle(cell);
    const probe = document.createElement("div");
    const width = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    probe.style.cssText = `position: absolute; visibility: hidden; overflow-wrap: normal;
      width: ${width}px; font: ${getComputedStyle(link).font}`;
    probe.textContent = link.textContent;
    document.body.append(probe);
    const fits = probe.scrollWidth <= probe.clientWidth;
    probe.remove();
    return fits;
  };
  const page = document.documentElement, board = document.getElementById("board");
  return {
    pageScroll: page.scrollWidth - page.clientWidth,
    boardScroll: board.scrollWidth - board.clientWidth,
    viewport: {width: page.clientWidth, height: innerHeight},
    rows: [...document.querySelectorAll("tr[data-item-id]")].map((row) => ({
      title: row.querySelector("a.item-title").textContent,
      box: box(row),
      cells: [...row.cells].filter((c) => c.offsetParent)
        .map((c) => ({cls: c.className, ...box(c)})),
      cell: box(row.querySelector("td.title")),
      link: box(row.querySelector("a.item-title")),
      origin: box(row.querySelector(".origin")),
      wordsFit: wordsFit(row.querySelector("a.item-title")),
      seenLines: row.querySelector("time").getClientRects().length,
      buttons: [...row.querySelectorAll("button")].map(box),
    })),
  };
}"""


@pytest.fixture
def board(db):
    """More than a page of Sentry-like titles and culprits."""
    source = SourceFactory(name="prod")
    MembershipFactory(team=source.team, user=UserFactory(username="vigie"))
    for title, culprit, level in ISSUES * 2:
        ItemFactory(source=source, title=title, origin=culprit, level=level, tally=123_456)
    return source


@pytest.fixture
def long_token(board):
    """A token no column is wide enough for, on the first row: it may break, but never widen
    the page."""
    return ItemFactory(
        source=board,
        title="RoutingError: No route matches https://app.example.org/" + "a" * 300,
        last_seen=timezone.now(),
    )


def open_board(page, live_server, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server)
    assert page.locator("html").get_attribute("lang") == "fr"
    if os.environ.get("VIGIE_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['VIGIE_SCREENSHOTS']}/board-{width}x{height}.png")
    return page.evaluate(MEASURE)


def assert_usable(layout):
    """No horizontal scroll, of the page or of the list; every button in view across; the
    culprit under its title; the last seen on one line."""
    assert layout["pageScroll"] <= 0
    assert layout["boardScroll"] <= 0
    width = layout["viewport"]["width"]
    for row in layout["rows"]:
        assert row["buttons"], row
        for button in row["buttons"]:
            assert button["x"] >= 0 and button["right"] <= width, (button, width)
        assert row["origin"]["y"] >= row["link"]["bottom"] - 1
        assert row["seenLines"] == 1


@pytest.mark.parametrize("width,height", [(1280, 800), (1366, 768), (1920, 1080)])
def test_from_1280_px_the_title_gets_the_width(
    browser_page, live_server, long_token, width, height
):
    layout = open_board(browser_page, live_server, width, height)
    assert_usable(layout)
    for row in layout["rows"]:
        widths = {cell["cls"]: cell["width"] for cell in row["cells"]}
        title = widths.pop("title")
        assert title > max(widths.values()), widths
        assert title >= 0.3 * row["box"]["width"], (title, row["box"]["width"])
        if row["title"] != long_token.title:
            assert row["wordsFit"], row["title"]  # no title is cut inside a word


def test_at_1024_px_the_board_is_usable(browser_page, live_server, long_token):
    layout = open_board(browser_page, live_server, 1024, 768)
    assert_usable(layout)
    titles = [row["cell"]["width"] for row in layout["rows"]]
    assert min(titles) >= 250, titles


def test_a_newcomer_at_1366x768_sees_8_rows_without_scrolling(browser_page, live_server, board):
    layout = open_board(browser_page, live_server, 1366, 768)
    height = layout["viewport"]["height"]
    seen = [row for row in layout["rows"] if 0 <= row["box"]["y"] < row["box"]["bottom"] <= height]
    assert len(seen) >= 8, [row["box"]["bottom"] for row in layout["rows"][:9]]


def test_with_the_detail_open_the_title_keeps_room_and_the_page_does_not_scroll(
    browser_page, live_server, long_token
):
    page = browser_page
    open_board(page, live_server, 1366, 768)
    page.locator("a.item-title").nth(1).click()
    page.locator("#item-detail .item-detail").wait_for()
    if os.environ.get("VIGIE_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['VIGIE_SCREENSHOTS']}/board-1366x768-detail.png")
    layout = page.evaluate(MEASURE)
    assert_usable(layout)
    titles = [row["cell"]["width"] for row in layout["rows"]]
    assert min(titles) >= 250, titles
