// The citation picker beside an article's body: search the references, insert [@key] where the writer is typing.
// Loaded before the editor's modules, so it hears the editor announce itself ("prose-editor:ready").
"use strict";
(function () {
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

    window.clinicPickerSearch({ url: list.closest("#citation-picker").dataset.url, input, status, list, show });
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
