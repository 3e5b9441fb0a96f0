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

  // The link says which reaction (`?antwoord=ID`); its header says whose.
  document.querySelectorAll("a.reply-link").forEach((link) => {
    const match = link.search.match(/[?&]antwoord=(\d+)/);
    if (!match) return;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const reaction = link.closest("article.reaction-body");
      const author = reaction.querySelector(".reaction-meta .author");
      form.querySelectorAll(".reply-context").forEach((old) => old.remove());
      parentField.value = match[1];
      label.textContent = "Je reageert op " + author.textContent + ".";
      parentField.after(context);
      reaction.after(form);
      form.querySelector("textarea[name=body]").focus();
    });
  });
}

// Moderators: the queue by keyboard. j/k move, x selects, a/r/s/d act on the selection
// (or the current reaction) through the same form POST, sent in the background.
const QUEUE_ACTIONS = {
  a: { action: "approve", status: "approved", done: "goedgekeurd" },
  r: { action: "reject", status: "rejected", done: "afgewezen" },
  s: { action: "spam", status: "spam", done: "als spam gemarkeerd" },
  d: { action: "delete", status: "deleted", done: "verwijderd" },
};

function reactionsText(n) {
  return n === 1 ? "1 reactie" : n + " reacties";
}

// Whether keys pressed in `element` are meant as text (a checkbox or button is not).
function isTyping(element) {
  if (!(element instanceof Element)) return false;
  if (element.closest("textarea, select, [contenteditable]")) return true;
  const noText = ["checkbox", "radio", "button", "submit", "reset"];
  return element.tagName === "INPUT" && !noText.includes(element.type);
}

function setUpQueueKeys() {
  const dialog = document.getElementById("queue-keys");
  const live = document.getElementById("queue-status");
  if (!dialog || !live) return;
  const form = document.getElementById("queue-form");
  const empty = document.getElementById("queue-empty");
  const closeHelp = document.getElementById("queue-keys-close");
  document.getElementById("queue-keys-hint").hidden = false;

  let current = null;
  let busy = false;
  let returnFocus = null;
  const items = () => Array.from(document.querySelectorAll("li.queue-item"));
  let saying = null;
  const say = (text) => {
    // Emptied first, so that the same sentence twice is announced twice; a sentence
    // still waiting is dropped, so an older one never follows a newer.
    window.clearTimeout(saying);
    live.textContent = "";
    saying = window.setTimeout(() => { live.textContent = text; }, 50);
  };
  const focusItem = (item) => {
    current = item;
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  };

  closeHelp.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
  });
  const openHelp = () => {
    returnFocus = document.activeElement;
    dialog.showModal();
    closeHelp.focus();
  };

  if (form) {
    form.addEventListener("focusin", (event) => {
      const item = event.target.closest("li.queue-item");
      if (item) current = item;
    });
  }

  const move = (step) => {
    const all = items();
    if (all.length === 0) return;
    const at = all.indexOf(current);
    const next = at === -1 ? (step > 0 ? 0 : all.length - 1) : at + step;
    if (next >= 0 && next < all.length) focusItem(all[next]);
  };

  const toggle = () => {
    if (!current) return say("Kies eerst een reactie met j of k.");
    const box = current.querySelector("input[name=ids]");
    box.checked = !box.checked;
    const selected = form.querySelectorAll("input[name=ids]:checked").length;
    say(selected === 0 ? "Geen reacties geselecteerd." : reactionsText(selected) + " geselecteerd.");
  };

  const updateTab = (status, change) => {
    const badge = document.querySelector('.tabs a[data-status="' + status + '"] .badge');
    if (badge) badge.textContent = String(Math.max(0, Number(badge.textContent) + change));
  };

  const act = async (key) => {
    if (busy || !form) return;
    const chosen = QUEUE_ACTIONS[key];
    const selected = items().filter((item) => item.querySelector("input[name=ids]").checked);
    const targets = selected.length > 0 ? selected : current ? [current] : [];
    if (targets.length === 0) return say("Kies eerst een reactie met j of k, of selecteer er een met x.");
    const tabStatus = form.querySelector("input[name=status]").value;
    if (chosen.status === tabStatus) {
      return say((targets.length === 1 ? "Deze reactie is al " : "Deze reacties zijn al ") + chosen.done + ".");
    }
    const data = new URLSearchParams();
    // The form's own fields only: each item's ban fields belong to another form.
    Array.from(form.elements)
      .filter((field) => field.type === "hidden")
      .forEach((field) => data.append(field.name, field.value));
    targets.forEach((item) => data.append("ids", item.dataset.id));
    data.append("action", chosen.action);
    const reason = form.querySelector("input[name=reason]");
    if (reason && reason.value.trim() !== "") data.append("reason", reason.value);
    busy = true;
    try {
      // getAttribute: `form.action` is the form's field named "action" (the bulk buttons).
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      // Success is the redirect back to the queue (not, say, to the login page).
      if (!response.ok || new URL(response.url).pathname !== "/beheer/moderatie") {
        throw new Error(String(response.status));
      }
      if (reason) reason.value = "";
      removeItems(targets);
      updateTab(tabStatus, -targets.length);
      updateTab(chosen.status, targets.length);
      say(reactionsText(targets.length) + " " + chosen.done + ".");
    } catch (err) {
      say("Dat is niet gelukt; er is niets veranderd. Probeer het opnieuw of laad de pagina opnieuw.");
    } finally {
      busy = false;
    }
  };

  const removeItems = (targets) => {
    const before = items();
    const first = before.indexOf(targets[0]);
    targets.forEach((item) => {
      const ban = document.getElementById("ban-" + item.dataset.id);
      if (ban) ban.remove();
      item.remove();
    });
    const after = items();
    if (after.length === 0) {
      current = null;
      form.hidden = true;
      empty.hidden = false;
      empty.focus();
      return;
    }
    focusItem(after[Math.min(first, after.length - 1)]);
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (dialog.open) return;
    if (isTyping(event.target)) return;
    const key = event.key;
    if (key === "?") {
      event.preventDefault();
      openHelp();
    } else if (key === "j" || key === "k") {
      event.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (key === "x") {
      event.preventDefault();
      toggle();
    } else if (Object.hasOwn(QUEUE_ACTIONS, key)) {
      event.preventDefault();
      act(key);
    }
  });
}

// Readers: "Nuttig" votes in place. The page is the same for everyone (cached), so this
// browser's own votes are remembered here to show the buttons pressed.
const VOTES_KEY = "kantlijn-nuttig";

function rememberedVotes() {
  try {
    return JSON.parse(localStorage.getItem(VOTES_KEY)) || {};
  } catch (err) {
    return {};
  }
}

function rememberVote(id, voted) {
  const votes = rememberedVotes();
  if (voted) votes[id] = 1;
  else delete votes[id];
  try {
    localStorage.setItem(VOTES_KEY, JSON.stringify(votes));
  } catch (err) {
    // Private browsing without storage: the count still updates.
  }
}

function voteFailure(status) {
  switch (status) {
    case 422:
      return "Je kunt je eigen reactie niet als nuttig markeren.";
    case 429:
      return "Even geduld: je markeert te snel. Probeer het over een minuut opnieuw.";
    case 403:
      return "De pagina is verlopen. Laad hem opnieuw en probeer het nog eens.";
    case 404:
      return "Deze reactie is niet meer te vinden.";
    default:
      return "Je markering kon niet worden opgeslagen. Probeer het opnieuw.";
  }
}

function setUpVotes() {
  const form = document.getElementById("nuttig");
  if (!form) return;
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("aria-live", "polite");
  document.body.append(status);
  const announce = (text) => {
    status.textContent = text;
  };
  const votes = rememberedVotes();
  // The page's form posts the button's reaction (`reactie`); the script sends each vote
  // to the reaction's own address.
  const article = form.getAttribute("action").replace(/\/nuttig$/, "");
  document.querySelectorAll("button[form=nuttig]").forEach((button) => {
    const id = button.value;
    if (!/^\d+$/.test(id)) return;
    const target = article + "/reacties/" + id + "/nuttig";
    // The cached page cannot know this browser's votes: the script says which are pressed.
    button.setAttribute("aria-pressed", votes[id] ? "true" : "false");
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      if (button.getAttribute("aria-busy") === "true") return;
      button.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(target, {
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
          cache: "no-store",
        });
        if (!response.ok) {
          announce(voteFailure(response.status));
          return;
        }
        const result = await response.json();
        button.setAttribute("aria-pressed", String(result.voted));
        button.querySelector("span").textContent = result.helpful_count;
        rememberVote(id, result.voted);
        const people =
          result.helpful_count === 1 ? "1 lezer vond" : result.helpful_count + " lezers vonden";
        announce(
          (result.voted ? "Gemarkeerd als nuttig. " : "Markering als nuttig ingetrokken. ") +
            people + " deze reactie nuttig."
        );
      } catch (err) {
        announce("Je markering kon niet worden verstuurd. Controleer je verbinding en probeer het opnieuw.");
      } finally {
        button.removeAttribute("aria-busy");
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpVotes();
  setUpPreview();
  setUpReactionPreview();
  setUpInlineReplies();
  setUpQueueKeys();
});
