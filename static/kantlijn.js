// Progressive enhancement only: every page works without this file.
"use strict";

// Posts Markdown to a preview endpoint with the form's CSRF token. Resolves to the
// server's fragment (sanitised HTML, or its Dutch reason for a 422); rejects with an
// Error whose message is the Dutch sentence to show instead.
async function fetchPreview(url, form, markdown) {
  const data = new URLSearchParams();
  data.set("body", markdown);
  data.set("csrf_token", form.querySelector("input[name=csrf_token]").value);
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (err) {
    throw new Error("Het voorbeeld kon niet worden geladen. Controleer je verbinding en probeer het opnieuw.");
  }
  if (response.ok || response.status === 422) return response.text();
  throw new Error(previewFailure(response.status));
}

// The Dutch sentence for a preview request that failed with `status`.
function previewFailure(status) {
  switch (status) {
    case 429:
      return "Even geduld: probeer het over een paar seconden opnieuw.";
    case 403:
      return "Er kan nu geen voorbeeld worden getoond: reageren is gesloten of de pagina is verlopen. Laad de pagina opnieuw; kopieer je tekst eerst als je hem wilt bewaren.";
    case 404:
      return "Dit artikel is niet meer te vinden, dus een voorbeeld tonen lukt niet.";
    default:
      return "Het voorbeeld kon niet worden geladen. Probeer het opnieuw.";
  }
}

// Editors: the "Voorbeeld" button fetches a server-rendered preview in place.
function setUpPreview() {
  const button = document.querySelector("[data-preview-button]");
  if (!button) return;
  const form = button.closest("form");
  const body = form.querySelector("textarea[data-preview-target]");
  const target = document.getElementById(body.dataset.previewTarget);
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      const html = await fetchPreview("/beheer/voorbeeld", form, body.value);
      target.innerHTML = '<h2 class="preview-label">Voorbeeld</h2>' + html;
    } catch (err) {
      target.textContent = err.message;
    }
    target.hidden = false;
    target.scrollIntoView({ behavior: "smooth", block: "start" });
  });
}

// Readers: "Voorbeeld bekijken" shows the reaction as it would appear, in the form's own
// live region, without leaving the page (wherever the inline reply moved the form).
function setUpReactionPreview() {
  const form = document.getElementById("reageren");
  if (!form) return;
  const button = form.querySelector("button[name=voorbeeld][data-preview-url]");
  const region = form.querySelector("#reactie-voorbeeld");
  const target = region && region.querySelector("[data-preview-body]");
  if (!button || !target) return;
  const body = form.querySelector("textarea[name=body]");
  let pending = null;
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    const request = fetchPreview(button.dataset.previewUrl, form, body.value);
    pending = request;
    region.hidden = false;
    region.setAttribute("aria-busy", "true");
    let html = null;
    let failure = null;
    try {
      html = await request;
    } catch (err) {
      failure = err.message;
    }
    // A quicker second click wins; the answer to the first is dropped.
    if (pending !== request) return;
    if (failure === null) {
      target.innerHTML = html;
    } else {
      const message = document.createElement("p");
      message.className = "error";
      message.textContent = failure;
      target.replaceChildren(message);
    }
    region.removeAttribute("aria-busy");
    region.scrollIntoView({ behavior: "smooth", block: "nearest" });
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
  setUpReactionPreview();
  setUpInlineReplies();
});
