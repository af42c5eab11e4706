// The 2-minute page refreshes itself every 15 s. When a refresh fails (server down, network
// gone, session expired) the last answers stay on screen, so say how old they are: nobody
// must read a stale "up" as the present.
(() => {
  const banner = document.getElementById("status-stale");
  if (!banner) return;
  const age = banner.querySelector("[data-age]");
  let shownSince = Date.now();
  let failing = false;

  function formatAge(ms) {
    const seconds = Math.floor(ms / 1000);
    const minutes = Math.floor(seconds / 60);
    const rest = String(seconds % 60).padStart(2, "0");
    return minutes ? `${minutes} min ${rest} s` : `${seconds} s`;
  }

  function tick() {
    if (failing) age.textContent = formatAge(Date.now() - shownSince);
  }

  function fail() {
    failing = true;
    banner.hidden = false;
    document.body.classList.add("status-stale");
    tick();
  }

  function fromBoard(event) {
    const elt = event.detail && event.detail.elt;
    return elt && elt.id === "status-board";
  }

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (!fromBoard(event)) return;
    // A redirect to the login page answers 200 too: only the board itself may replace it.
    if (event.detail.xhr.getResponseHeader("X-Vigie-Status") !== "1") {
      event.detail.shouldSwap = false;
      fail();
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (!fromBoard(event)) return;
    failing = false;
    shownSince = Date.now();
    banner.hidden = true;
    document.body.classList.remove("status-stale");
  });
  for (const name of ["htmx:responseError", "htmx:sendError", "htmx:timeout"]) {
    document.body.addEventListener(name, (event) => {
      if (fromBoard(event)) fail();
    });
  }
  setInterval(tick, 1000);
})();
