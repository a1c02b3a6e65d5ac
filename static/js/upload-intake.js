// Getting files into the upload page: the drop zone (files or whole folders, walked with
// webkitGetAsEntry), "Choose files" and "Choose a folder" (webkitdirectory). Each file is
// handed to `addFile(file, relativePath)`; system clutter (.DS_Store, ._*, __MACOSX,
// Thumbs.db) is left out.
window.AtriumUploadIntake = (function () {
  "use strict";
  function readEntries(reader) {
    return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  }
  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push([file, prefix + file.name]);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      // readEntries answers in batches (100 in Chromium) until an empty one.
      for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
        for (const child of batch) await walk(child, prefix + entry.name + "/", out);
      }
    }
  }
  function isJunk(path) {
    return path.split("/").some((p) => p === "__MACOSX" || p === ".DS_Store" || p.startsWith("._") || p === "Thumbs.db");
  }
  async function takeDrop(dataTransfer, addFile) {
    const entries = [...(dataTransfer.items || [])]
      .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null))
      .filter(Boolean);
    if (!entries.length) { [...dataTransfer.files].forEach((f) => addFile(f)); return; }
    const found = [];
    for (const entry of entries) await walk(entry, "", found);
    found.filter(([, path]) => !isJunk(path)).forEach(([file, path]) => addFile(file, path));
  }
  const hasFiles = (e) => [...(e.dataTransfer.types || [])].includes("Files");

  function bind(dropZone, addFile, onError) {
    const filesInput = document.getElementById("pick-files");
    document.getElementById("pick-files-button").addEventListener("click", () => filesInput.click());
    document.getElementById("pick-folder-button").addEventListener("click", () => document.getElementById("pick-folder").click());
    ["pick-files", "pick-folder"].forEach((id) => {
      const input = document.getElementById(id);
      input.addEventListener("change", () => {
        [...input.files].filter((f) => !isJunk(f.webkitRelativePath || f.name))
          .forEach((f) => addFile(f, f.webkitRelativePath || f.name));
        input.value = "";
      });
    });
    dropZone.addEventListener("keydown", (e) => {
      if (e.target === dropZone && (e.key === "Enter" || e.key === " ")) {
        e.preventDefault();
        filesInput.click();
      }
    });
    // The whole page takes the drop; the zone lights up while files are over it.
    let depth = 0;
    document.addEventListener("dragenter", (e) => {
      if (!hasFiles(e)) return;
      depth++;
      dropZone.classList.add("dragging");
    });
    document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; dropZone.classList.remove("dragging"); } });
    document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
    document.addEventListener("drop", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      dropZone.classList.remove("dragging");
      takeDrop(e.dataTransfer, addFile).catch(onError);
    });
  }

  return { bind, isJunk };
})();
