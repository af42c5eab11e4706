// The board's rows answer 403 (not a member) and 422 (refused: bad threshold, nothing to undo)
// with the row itself, carrying the message: swap it in like a success so the vigie reads why.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 403 || status === 422) && event.detail.requestConfig.verb === "post") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
