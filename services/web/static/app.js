// Guichet's own script: live updates (server-sent events), canned responses, signature,
// confirmations. Every page works without it; it only saves reloads and typing.
"use strict";

// After an event, the part of the page it concerns is fetched again: at once, and once
// more when the search index has caught up (lists come from it; it refreshes every second).
const REFRESH_AFTER_MS = [300, 1800];

async function refresh(container) {
  const answer = await fetch(container.dataset.refresh, { credentials: "same-origin" });
  if (!answer.ok) return;
  const target = container.querySelector("#history-items") || container;
  target.innerHTML = await answer.text();
  const note = document.getElementById("live-note");
  if (note) note.hidden = false;
  container.dataset.updated = String(Date.now());
}

function live(container) {
  const source = new EventSource(container.dataset.live);
  let timers = [];
  source.addEventListener("changed", () => {
    timers.forEach(clearTimeout); // several events close together: one round of refreshes
    timers = REFRESH_AFTER_MS.map((delay) => setTimeout(() => refresh(container), delay));
  });
  window.addEventListener("beforeunload", () => source.close());
}

function insertAtEnd(textarea, text) {
  textarea.value = textarea.value ? textarea.value.replace(/\s*$/, "\n\n") + text : text;
  textarea.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live]").forEach(live);

  const canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", () => {
      const textarea = document.getElementById(canned.dataset.insertInto);
      if (canned.value && textarea) insertAtEnd(textarea, canned.value);
      canned.selectedIndex = 0;
    });
  }

  const signature = document.getElementById("add-signature");
  if (signature) {
    signature.addEventListener("change", () => {
      const textarea = document.getElementById("text");
      const block = "-- \n" + signature.dataset.signature;
      if (signature.checked) insertAtEnd(textarea, block);
      else textarea.value = textarea.value.replace("\n\n" + block, "").replace(block, "");
    });
  }

  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
});
