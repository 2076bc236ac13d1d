// The citation picker beside an article's body: search the references, insert [@key] where the writer is typing.
// Loaded before the editor's modules, so it hears the editor announce itself ("prose-editor:ready").
"use strict";
(function () {
  const SEARCH_DELAY_MS = 250;
  let editor = null;
  let editorHadFocus = false;
  let lastField = null;

  document.addEventListener("prose-editor:ready", function (event) {
    if (!event.detail || !event.detail.textarea || event.detail.textarea.id !== "id_body") return;
    editor = event.detail.editor;
    editor.on("focus", function () {
      editorHadFocus = true;
    });
  });

  // Without the editor, the marker goes into the text field the writer last typed in, else the body's textarea.
  document.addEventListener("focusin", function (event) {
    const field = event.target;
    const typable = field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type === "text");
    if (typable && !field.closest("#citation-picker")) lastField = field;
  });

  function insertIntoEditor(marker) {
    // The editor starts with its cursor at the very beginning: anywhere else, the writer put it there (even if
    // the focus came before this script heard of the editor).
    if (editorHadFocus || editor.state.selection.from > 1) editor.commands.focus();
    else editor.commands.focus("end");
    const at = editor.state.selection.from;
    const before = editor.state.doc.textBetween(Math.max(0, at - 1), at, " ", " ");
    editor.commands.insertContent((before && !/\s/.test(before) ? " " : "") + marker);
  }

  function insertIntoField(field, marker) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.focus();
    field.setRangeText(marker, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUp() {
    const picker = document.getElementById("citation-picker");
    const bodyRow = document.querySelector(".form-row.field-body");
    if (!picker || !bodyRow) return;
    bodyRow.after(picker);
    picker.hidden = false;

    const input = document.getElementById("citation-picker-search");
    const status = document.getElementById("citation-picker-status");
    const list = document.getElementById("citation-picker-results");
    let timer = null;
    let controller = null;

    function buttons() {
      return Array.from(list.querySelectorAll("button"));
    }

    function choose(key) {
      const marker = "[@" + key + "]";
      if (editor) insertIntoEditor(marker);
      else insertIntoField(lastField || document.getElementById("id_body"), marker);
      status.textContent = "Inserted " + marker + " into the text.";
    }

    function show(answer) {
      list.replaceChildren();
      for (const result of answer.results) {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.key = result.key;
        const key = document.createElement("span");
        key.className = "citation-picker-key";
        key.textContent = "[@" + result.key + "]";
        button.append(key, result.citation);
        button.addEventListener("click", function () {
          choose(result.key);
        });
        const item = document.createElement("li");
        item.append(button);
        list.append(item);
      }
      const count = answer.results.length;
      status.textContent = count
        ? count + (count === 1 ? " reference found." : " references found.") + " Down arrow to choose."
        : answer.message;
    }

    async function search() {
      clearTimeout(timer);
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const response = await fetch(list.closest("#citation-picker").dataset.url + "?" +
          new URLSearchParams({ q: input.value }), {
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
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
