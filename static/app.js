// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // Put focus on the first field with an error after an htmx form swap.
  const invalid = event.detail.target.querySelector("[aria-invalid='true']");
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
