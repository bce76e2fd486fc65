// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // After a form comes back with errors, put focus on the first one; not after the
  // check of a single field, which would pull focus back from where the user went next.
  // An outerHTML swap replaced the target: look in what took its place.
  let target = event.detail.target;
  if (!target.isConnected) target = target.id ? document.getElementById(target.id) : null;
  if (!target || target.matches(".feedback, .field")) return;
  const invalid = target.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
});

// Copy buttons: shown only where JavaScript runs; the field stays selectable without it.
function wireCopyButtons(root) {
  root.querySelectorAll(".copy-button[hidden]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const field = document.querySelector(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(field.value);
      } catch {
        field.select();
        document.execCommand("copy");
      }
      const label = button.textContent;
      button.textContent = button.dataset.copied;
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  });
}
document.addEventListener("DOMContentLoaded", () => wireCopyButtons(document));
document.addEventListener("htmx:load", (event) => wireCopyButtons(event.detail.elt));

// Fold buttons (Hide): hide the table row they are in; data-fold-row="empty" also empties it,
// data-focus names where the keyboard focus goes next. Handlers live here, not in the markup:
// the Content-Security-Policy allows no inline script.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fold-row]");
  if (!button) return;
  const row = button.closest("tr");
  if (button.dataset.foldRow === "empty") row.replaceChildren();
  row.hidden = true;
  if (button.dataset.focus) document.querySelector(button.dataset.focus)?.focus();
});

// A poller marked data-poll-while-shown skips its polls while it is hidden (a folded timeline).
document.addEventListener("htmx:beforeRequest", (event) => {
  const poller = event.detail.elt;
  if (poller.hasAttribute("data-poll-while-shown") && poller.hidden) event.preventDefault();
});
