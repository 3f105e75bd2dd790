"use strict";
// Sorting and filtering for the findings table. Reads cells through textContent and data-*
// attributes only, and never writes HTML, so finding text cannot become markup.
(function () {
  const table = document.getElementById("findings");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const filter = document.getElementById("filter");
  const boxes = Array.from(document.querySelectorAll("input.decision-filter"));
  const shown = document.getElementById("shown");

  function apply() {
    const query = filter.value.trim().toLowerCase();
    const allowed = new Set(boxes.filter((box) => box.checked).map((box) => box.value));
    let count = 0;
    for (const row of rows) {
      const visible = allowed.has(row.dataset.decision) &&
        (query === "" || row.textContent.toLowerCase().includes(query));
      row.hidden = !visible;
      if (visible) {
        count += 1;
      }
    }
    shown.textContent = count + " of " + rows.length + " findings shown";
  }

  function sortBy(header) {
    const index = header.cellIndex;
    const numeric = header.dataset.sort === "number";
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const cell of table.tHead.rows[0].cells) {
      cell.removeAttribute("aria-sort");
    }
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = (row) => {
      const cell = row.cells[index];
      const value = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
      return numeric ? Number(value) : value.trim().toLowerCase();
    };
    const sorted = rows.slice().sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const order = numeric ? x - y : x.localeCompare(y);
      return ascending ? order : -order;
    });
    for (const row of sorted) {
      body.appendChild(row);
    }
  }

  table.tHead.addEventListener("click", (event) => {
    const header = event.target.closest("th[data-sort]");
    if (header) {
      sortBy(header);
    }
  });
  table.tHead.addEventListener("keydown", (event) => {
    const header = event.target.closest("th[data-sort]");
    if (header && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      sortBy(header);
    }
  });
  filter.addEventListener("input", apply);
  for (const box of boxes) {
    box.addEventListener("change", apply);
  }
  apply();
})();
