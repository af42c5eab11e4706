"""The board's layout in Debian's chromium, measured on the page (issue 14): the title gets the
width from 1280 px, the board is usable at 1024 px, a newcomer at 1366x768 sees 8 rows.

VIGIE_SCREENSHOTS=dir keeps a screenshot of each size there, to look at."""

import os

import pytest
from django.utils import timezone

from rotation.models import Team
from rotation.tests.factories import MembershipFactory
from tests.factories import UserFactory
from triage import demo
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
    """More than a page of Sentry-like titles, culprits and short ids (a project's slug and a
    number: long ones too)."""
    source = SourceFactory(name="prod")
    MembershipFactory(team=source.team, user=UserFactory(username="vigie"))
    for i, (title, culprit, level) in enumerate(ISSUES * 2):
        short_id = f"RDV-SOLIDARITES-API-{0x1A2B + i:X}" if i % 2 else f"APP-{0x1F4 + i:X}"
        ItemFactory(
            source=source, title=title, origin=culprit, level=level, tally=123_456,
            short_id=short_id,
        )  # fmt: skip
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


def assert_usable(layout, seen=True):
    """No horizontal scroll, of the page or of the list; every button in view across; the
    culprit under its title; the last seen on one line (`seen`: when its column is shown)."""
    assert layout["pageScroll"] <= 0
    assert layout["boardScroll"] <= 0
    width = layout["viewport"]["width"]
    for row in layout["rows"]:
        assert row["buttons"], row
        for button in row["buttons"]:
            assert button["x"] >= 0 and button["right"] <= width, (button, width)
        assert row["origin"]["y"] >= row["link"]["bottom"] - 1
        assert row["seenLines"] == (1 if seen else 0)


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


# Every line break of each title on screen: the characters either side of it. A break is
# between words (a space) or after a separator of a code name or a URL ("Pundit::|Not…").
LINE_BREAKS = """() => [...document.querySelectorAll("tr[data-item-id] a.item-title")]
  .filter((link) => link.getBoundingClientRect().bottom <= innerHeight)
  .map((link) => {
    const chars = [];
    const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) chars.push({c: node.data[i], top: Math.round(rect.top)});
      }
    }
    const breaks = [];
    for (let i = 1; i < chars.length; i++) {
      if (chars[i].top > chars[i - 1].top + 2) breaks.push(chars[i - 1].c + "|" + chars[i].c);
    }
    return {title: link.textContent, breaks};
  })"""
SEPARATORS = set(" :./_-#(,?&=")


@pytest.fixture
def demo_board(db):
    """The demo's items (issues, jobs, small requests), seen by a member of its team."""
    team = Team.objects.create(slug="demo", name="Démo")
    MembershipFactory(team=team, user=UserFactory(username="vigie"))
    demo.load()


def open_detail(page, live_server, width, height):
    open_board(page, live_server, width, height)
    page.locator("a.item-title").first.click()
    page.locator("#item-detail .item-detail").wait_for()
    if os.environ.get("VIGIE_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['VIGIE_SCREENSHOTS']}/board-{width}x{height}-detail.png")
    return page.evaluate(MEASURE)


def test_with_the_detail_open_on_the_demo_no_title_word_is_cut_and_6_rows_fit(
    browser_page, live_server, demo_board
):
    page = browser_page
    layout = open_detail(page, live_server, 1366, 768)
    assert_usable(layout)
    # Rows of every kind, with their buttons: issues, jobs, small requests, M'attribuer.
    kinds = page.eval_on_selector_all(
        "tr[data-item-id] .level", "cells => cells.map(c => c.textContent)"
    )
    assert {"error", "demande"} <= set(kinds), kinds
    assert page.locator("table.board").get_by_role("button", name="M'attribuer").count() >= 4
    for title in page.evaluate(LINE_BREAKS):
        for pair in title["breaks"]:
            before, _, after = pair.partition("|")
            assert before in SEPARATORS or after == " ", (title["title"], pair)
    height = layout["viewport"]["height"]
    seen = [row for row in layout["rows"] if 0 <= row["box"]["y"] < row["box"]["bottom"] <= height]
    assert len(seen) >= 6, [row["box"]["bottom"] for row in layout["rows"][:7]]


def test_at_1024_px_with_the_detail_open_the_board_stays_usable(
    browser_page, live_server, demo_board
):
    layout = open_detail(browser_page, live_server, 1024, 768)
    assert_usable(layout, seen=False)  # the detail shows it, the title keeps the room
    titles = [row["cell"]["width"] for row in layout["rows"]]
    assert min(titles) >= 180, titles
