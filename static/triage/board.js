// The board's rows answer 403 (not a member) and 422 (refused: bad threshold, nothing to undo)
// with the row itself, carrying the message: swap it in like a success so the vigie reads why.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 403 || status === 422) && event.detail.requestConfig.verb === "post") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The keyboard: j/k move between rows, o opens the detail, t/b/a/r/u press the row's
// Temporaire/Bug/Attendu/Résolu/Annuler, x ticks the row's checkbox, ? lists the keys. Focus stays on the row after an
// action, and every result is read out in one live region that is never swapped.
const KEYS = { t: "temporary", b: "bug", a: "expected", r: "resolved", u: "undo" };

function rows() {
  return Array.from(document.querySelectorAll("table.board tr[data-item-id]"));
}

function currentRow() {
  return document.activeElement && document.activeElement.closest
    ? document.activeElement.closest("tr[data-item-id]")
    : null;
}

function focusRow(row) {
  if (!row) return;
  row.tabIndex = -1;
  row.focus();
}

function announce(text) {
  const live = document.getElementById("board-live");
  if (live && text) {
    // Emptied first so that the same message twice is read twice.
    live.textContent = "";
    window.setTimeout(() => { live.textContent = text; }, 50);
  }
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  // A row's checkbox keeps the keys (x, j, k…): it is part of the row, not a text field.
  const typing = "input:not([type=checkbox]), textarea, select, [contenteditable]";
  if (target.closest && target.closest(typing)) return;
  const all = rows();
  if (!all.length) return;
  const row = currentRow();
  const index = row ? all.indexOf(row) : -1;
  if (event.key === "j" || event.key === "k") {
    const next = event.key === "j" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0);
    focusRow(all[next]);
  } else if (event.key === "o" && row) {
    row.querySelector("a.item-title").click();
  } else if (KEYS[event.key] && row) {
    const button = row.querySelector(`button[name=action][value=${KEYS[event.key]}]`);
    if (button) button.click();
  } else if (event.key === "x" && row) {
    const box = row.querySelector("input[form=bulk-form]");
    if (box) box.click();
  } else if (event.key === "?") {
    const help = document.getElementById("board-keys");
    if (help) help.open = !help.open;
  } else {
    return;
  }
  event.preventDefault();
});

// The ids of the rows on screen go with the counts poll and the panel's forms: the answer
// updates those rows out of band, and only those (htmx errs on a row it cannot find).
document.addEventListener("htmx:configRequest", (event) => {
  const elt = event.detail.elt;
  if (elt.id === "board-counts" || (elt.closest && elt.closest("#item-detail"))) {
    event.detail.parameters.shown = rows().map((row) => row.dataset.itemId).join(",");
  }
});

// The detail panel: opened, the focus goes to its heading and board-live names it once;
// after one of its forms, board-live reads the result; Escape closes it, back on its row.
let boardUrl = null; // the board's address before the panel pushed the item's
let openedFrom = null; // the id of the row whose detail is open

function closeDetail() {
  const panel = document.getElementById("item-detail");
  if (!panel || !panel.querySelector("article")) return false;
  panel.replaceChildren();
  if (boardUrl) history.pushState(null, "", boardUrl);
  focusRow(document.querySelector(`tr[data-item-id="${openedFrom}"]`));
  return true;
}

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.target && event.detail.target.id === "item-detail"
      && !location.pathname.startsWith("/board/items/")) {
    boardUrl = location.href;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.getElementById("board") && closeDetail()) {
    event.preventDefault();
  }
});

document.addEventListener("htmx:afterSwap", (event) => {
  const swapped = event.detail.target;
  if (swapped && swapped.id === "item-detail") {
    const article = swapped.querySelector("article[data-item-id]");
    if (!article) return;
    openedFrom = article.dataset.itemId;
    const heading = article.querySelector("h2");
    if (heading) heading.focus();
    const flash = article.querySelector(".flash");
    announce(flash ? flash.textContent.trim() : article.dataset.announce);
    return;
  }
  if (swapped && swapped.id === "bulk-result") {
    announce(swapped.textContent.trim());
    // Focus on the first row the bulk answered, as a row's own button keeps it on its row.
    if (bulkFirst) focusRow(document.querySelector(`tr[data-item-id="${bulkFirst}"]`));
    return;
  }
  if (!swapped || !swapped.dataset || !swapped.dataset.itemId) return;
  const row = document.querySelector(`tr[data-item-id="${swapped.dataset.itemId}"]`);
  if (!row) return;
  const flash = row.querySelector(".flash");
  if (flash) announce(flash.textContent.trim());
  focusRow(row);
});

// Bulk selection: a checkbox per row (shift-click ticks the range since the last one), one for
// the whole page, and the bar's buttons, disabled while nothing is selected.
let lastBox = null;
let bulkFirst = null; // the first selected row's id when the bulk bar was pressed

function boxes() {
  return Array.from(document.querySelectorAll("tr input[form=bulk-form]"));
}

function updateBulk() {
  const all = boxes();
  const selected = all.filter((box) => box.checked).length;
  const count = document.querySelector("#bulk-count output");
  if (count) count.textContent = String(selected);
  document.querySelectorAll("#bulk-form button[name=action]").forEach((button) => {
    button.disabled = selected === 0;
  });
  const every = document.getElementById("bulk-all");
  if (every) {
    every.checked = selected > 0 && selected === all.length;
    every.indeterminate = selected > 0 && selected < all.length;
  }
}

document.addEventListener("click", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  if (box.id === "bulk-all") {
    boxes().forEach((other) => { other.checked = box.checked; });
    lastBox = null;
  } else if (box.form && box.form.id === "bulk-form") {
    const all = boxes();
    if (event.shiftKey && lastBox && all.includes(lastBox)) {
      const [from, to] = [all.indexOf(lastBox), all.indexOf(box)].sort((a, b) => a - b);
      all.slice(from, to + 1).forEach((other) => { other.checked = box.checked; });
    }
    lastBox = box;
  } else {
    return;
  }
  updateBulk();
});

document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.id !== "bulk-form") return;
  const first = boxes().find((box) => box.checked);
  bulkFirst = first ? first.value : null;
});

// On load (a restored page may keep ticks) and after any swap: rows answered, a new page.
document.addEventListener("DOMContentLoaded", updateBulk);
document.addEventListener("htmx:afterSettle", updateBulk);
