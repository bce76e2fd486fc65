// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // After a form comes back with errors, put focus on the first one; not after the
  // check of a single field, which would pull focus back from where the user went next.
  const target = event.detail.target;
  if (target.matches(".feedback, .field")) return;
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
