// What the citation picker and the figure picker share: a search box that asks the server as the writer types
// (or presses Enter), a list of result buttons, and the keys that move between them. Each picker says how to
// show a result and what choosing it does (citation-picker.js, figure-picker.js).
"use strict";
window.clinicPickerSearch = function ({ url, input, status, list, show }) {
  const SEARCH_DELAY_MS = 250;
  let timer = null;
  let controller = null;

  function buttons() {
    return Array.from(list.querySelectorAll("button"));
  }

  async function search() {
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(url + "?" + new URLSearchParams({ q: input.value }), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(String(response.status));
      show(await response.json());
    } catch (error) {
      if (error.name === "AbortError") return;
      list.replaceChildren();
      status.textContent = "The search did not work. Check that you are still logged in, then try again.";
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault(); // the search box sits in the article's form: Enter must not save it
      search();
    } else if (event.key === "ArrowDown" && buttons().length) {
      event.preventDefault();
      buttons()[0].focus();
    }
  });
  list.addEventListener("keydown", function (event) {
    const all = buttons();
    const index = all.indexOf(document.activeElement);
    if (index < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = index + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) input.focus();
      else all[Math.min(next, all.length - 1)].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.focus();
    }
  });
};
