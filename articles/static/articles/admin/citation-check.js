// Tell the writer, while typing, which citation keys in the body match no reference.
// The server stays the authority: saving and publishing check again.
"use strict";
(function () {
  const KEY = "[A-Za-z0-9_](?:[A-Za-z0-9_:.\\-]*[A-Za-z0-9_])?";
  const MARKER = new RegExp("\\[\\s*(@[^\\[\\]<>]*?)\\s*\\]", "g");
  const MARKER_KEY = new RegExp("^@(" + KEY + ")$");

  function citedKeys(text) {
    const keys = [];
    for (const match of text.matchAll(MARKER)) {
      for (const part of match[1].split(";")) {
        const key = MARKER_KEY.exec(part.trim());
        if (key && !keys.includes(key[1])) keys.push(key[1]);
      }
    }
    return keys;
  }

  function setUp() {
    const body = document.getElementById("id_body");
    const status = document.getElementById("citation-live-check");
    if (!body || !status) return;
    const url = status.dataset.url;
    let timer = null;
    let lastAsked = null;

    async function check() {
      const keys = citedKeys(body.value);
      const asked = keys.join(",");
      if (asked === lastAsked) return;
      lastAsked = asked;
      if (!keys.length) {
        status.textContent = "No citations yet.";
        status.className = "citation-live";
        return;
      }
      const response = await fetch(url + "?" + new URLSearchParams({ keys: asked }), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const result = await response.json();
      if (result.unknown.length) {
        status.textContent = "Unknown citation key" + (result.unknown.length > 1 ? "s: " : ": ") +
          result.unknown.join(", ") + ". Import the reference or correct the key.";
        status.className = "citation-live errornote";
      } else {
        status.textContent = keys.length === 1
          ? "The citation key matches a reference."
          : "All " + keys.length + " citation keys match a reference.";
        status.className = "citation-live";
      }
    }

    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    });
    check();
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
