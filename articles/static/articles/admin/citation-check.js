// Tell the writer, while typing, which citation keys in the body match no reference.
// The server stays the authority: saving and publishing check again.
"use strict";
(function () {
  const KEY = "[A-Za-z0-9_](?:[A-Za-z0-9_:.\\-]*[A-Za-z0-9_])?";
  const MARKER = new RegExp("\\[\\s*(@[^\\[\\]\\n]*?)\\s*\\]", "g");
  const MARKER_KEY = new RegExp("^@(" + KEY + ")$");

  // Markers are read from the text, never from the markup: every tag ends a run of text, and entities are decoded.
  function textOf(html) {
    return new DOMParser().parseFromString(html.replace(/<[^>]*>/g, "\n"), "text/html").body.textContent;
  }

  function citedKeys(html) {
    const keys = [];
    for (const match of textOf(html).matchAll(MARKER)) {
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
      if (result.messages.length === 1) {
        status.textContent = result.messages[0];
        status.className = "citation-live errornote";
      } else if (result.messages.length) {
        const list = document.createElement("ul");
        for (const message of result.messages) {
          list.appendChild(document.createElement("li")).textContent = message;
        }
        status.replaceChildren(list);
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
