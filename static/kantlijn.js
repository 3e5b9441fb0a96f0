// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.querySelector("[data-preview-button]");
  if (!button) return;
  const form = button.closest("form");
  const body = form.querySelector("textarea[data-preview-target]");
  const target = document.getElementById(body.dataset.previewTarget);
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    const data = new URLSearchParams();
    data.set("body", body.value);
    data.set("csrf_token", form.querySelector("input[name=csrf_token]").value);
    try {
      const response = await fetch("/beheer/voorbeeld", {
        method: "POST",
        body: data,
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(response.status);
      target.innerHTML = '<h2 class="preview-label">Voorbeeld</h2>' + (await response.text());
    } catch (err) {
      target.textContent = "Het voorbeeld kon niet worden geladen. Probeer het opnieuw.";
    }
    target.hidden = false;
    target.scrollIntoView({ behavior: "smooth", block: "start" });
  });
});
