// The figure picker beside an article's body: search the image library, insert [[figure:N]] as a paragraph of its
// own after the one the cursor is in. Loaded before the editor's modules, so it hears the editor announce itself.
"use strict";
(function () {
  let editor = null;
  let editorHadFocus = false;

  document.addEventListener("prose-editor:ready", function (event) {
    if (!event.detail || !event.detail.textarea || event.detail.textarea.id !== "id_body") return;
    editor = event.detail.editor;
    editor.on("focus", function () {
      editorHadFocus = true;
    });
  });

  function insertIntoEditor(marker) {
    if (editorHadFocus || editor.state.selection.from > 1) editor.commands.focus();
    else editor.commands.focus("end");
    const from = editor.state.selection.$from;
    const at = from.depth ? from.after(1) : editor.state.doc.content.size; // after the top-level block
    editor.chain().insertContentAt(at, { type: "paragraph", content: [{ type: "text", text: marker }] }).run();
  }

  function insertIntoTextarea(field, marker) {
    const at = field.selectionEnd ?? field.value.length;
    field.focus();
    field.setRangeText("\n<p>" + marker + "</p>\n", at, at, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUp() {
    const picker = document.getElementById("figure-picker");
    const bodyRow = document.querySelector(".form-row.field-body");
    if (!picker || !bodyRow) return;
    const citationPicker = document.getElementById("citation-picker");
    (citationPicker && !citationPicker.hidden ? citationPicker : bodyRow).after(picker);
    picker.hidden = false;

    const input = document.getElementById("figure-picker-search");
    const status = document.getElementById("figure-picker-status");
    const list = document.getElementById("figure-picker-results");

    function choose(result) {
      if (editor) insertIntoEditor(result.marker);
      else insertIntoTextarea(document.getElementById("id_body"), result.marker);
      status.textContent = "Inserted " + result.marker + " (" + result.title + ") into the text.";
    }

    function show(answer) {
      list.replaceChildren();
      for (const result of answer.results) {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.marker = result.marker;
        const picture = document.createElement("img");
        picture.src = result.picture;
        picture.alt = ""; // the alt text is written out beside it
        const key = document.createElement("span");
        key.className = "citation-picker-key";
        key.textContent = result.marker;
        const words = document.createElement("span");
        words.textContent = result.title + ": " + result.alt + (result.caption ? " (" + result.caption + ")" : "");
        button.append(picture, key, words);
        button.addEventListener("click", function () {
          choose(result);
        });
        const item = document.createElement("li");
        item.append(button);
        list.append(item);
      }
      const count = answer.results.length;
      status.textContent = count
        ? count + (count === 1 ? " picture found." : " pictures found.") + " Down arrow to choose."
        : answer.message;
    }

    window.clinicPickerSearch({ url: picker.dataset.url, input, status, list, show });
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
