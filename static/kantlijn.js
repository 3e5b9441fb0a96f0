// Progressive enhancement only: every page works without this file.
"use strict";

// Editors: the "Voorbeeld" button fetches a server-rendered preview in place.
function setUpPreview() {
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
      if (!response.ok) throw new Error(String(response.status));
      target.innerHTML = '<h2 class="preview-label">Voorbeeld</h2>' + (await response.text());
    } catch (err) {
      target.textContent = "Het voorbeeld kon niet worden geladen. Probeer het opnieuw.";
    }
    target.hidden = false;
    target.scrollIntoView({ behavior: "smooth", block: "start" });
  });
}

// Readers: "Reageer" moves the reaction form under the reaction instead of jumping down.
function setUpInlineReplies() {
  const form = document.getElementById("reageren");
  if (!form) return;
  const home = document.createComment("reaction form");
  form.parentNode.insertBefore(home, form);
  const parentField = form.querySelector("input[name=parent_id]");

  const context = document.createElement("p");
  context.className = "reply-context";
  const label = document.createElement("span");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link";
  cancel.textContent = "Niet meer reageren op deze reactie";
  context.append(label, " ", cancel);

  const reset = () => {
    parentField.value = "";
    context.remove();
    home.parentNode.insertBefore(form, home.nextSibling);
  };
  cancel.addEventListener("click", reset);

  document.querySelectorAll("a.reply-link[data-reply-to]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const reaction = link.closest("article.reaction-body");
      form.querySelectorAll(".reply-context").forEach((old) => old.remove());
      parentField.value = link.dataset.replyTo;
      label.textContent = "Je reageert op " + link.dataset.replyName + ".";
      parentField.after(context);
      reaction.after(form);
      form.querySelector("textarea[name=body]").focus();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpPreview();
  setUpInlineReplies();
});
