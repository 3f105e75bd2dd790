"use strict";
// Pages, sorts and filters the findings held in the inert JSON block #data. Cells are built with
// createElement and textContent only, so finding text can never become markup; only one page of
// rows is in the DOM at a time, so 100,000 findings stay responsive.
(function () {
  const DECISIONS = ["fail", "warn", "excepted", "pass"];
  const LONG = 60; // a "word" longer than this is not one a person reads: it may break, the rest never do
  const data = JSON.parse(document.getElementById("data").textContent);
  const strings = data.strings;
  const rows = data.rows.map((row, index) => Object.assign(row, { i: index }));
  const table = document.getElementById("findings");
  const body = table.tBodies[0];
  const filter = document.getElementById("filter");
  const boxes = Array.from(document.querySelectorAll("input.decision-filter"));
  const size = document.getElementById("page-size");
  const shown = document.getElementById("shown");
  const pageLabel = document.getElementById("page");
  const previous = document.getElementById("previous");
  const next = document.getElementById("next");
  let order = rows.slice();
  let matching = order;
  let page = 0;

  function haystack(row) {
    if (row.h === undefined) {
      const parts = [row.id, row.s, DECISIONS[row.d]];
      for (const p of row.p) {
        parts.push(p.join(" "));
      }
      for (const key of ["w", "f", "x", "ex"]) {
        for (const index of row[key] || []) {
          parts.push(strings[index]);
        }
      }
      if (row.t !== undefined) {
        parts.push(strings[row.t]);
      }
      row.h = parts.join("\n").toLowerCase();
    }
    return row.h;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      words(node, text);
    }
    return node;
  }

  // Each word in its own no-wrap span: lines break between words, never inside one (not even at a hyphen).
  function words(parent, text) {
    const parts = String(text).split(/\s+/).filter((part) => part !== "");
    parts.forEach((part, index) => {
      if (index > 0) {
        parent.appendChild(document.createTextNode(" "));
      }
      const span = document.createElement("span");
      span.className = part.length > LONG ? "w long" : "w";
      span.textContent = part;
      parent.appendChild(span);
    });
    return parent;
  }

  function list(className, lines) {
    const ul = el("ul", className);
    for (const line of lines) {
      ul.appendChild(el("li", "", line));
    }
    return ul;
  }

  function vulnerability(row) {
    const cell = el("td", "vulnerability");
    const link = row.u ? el("a", "id") : el("span", "id");
    if (row.u) {
      link.href = row.u;
      link.rel = "noopener noreferrer";
    }
    link.textContent = row.id;
    cell.appendChild(link);
    if (row.t !== undefined) {
      cell.appendChild(el("div", "title", strings[row.t]));
    }
    if (row.ds !== undefined) {
      const details = el("details");
      details.appendChild(el("summary", "", "Description"));
      const text = el("p", "description");
      text.textContent = strings[row.ds];
      details.appendChild(text);
      cell.appendChild(details);
    }
    return cell;
  }

  function packages(row) {
    const cell = el("td", "packages");
    const ul = el("ul");
    for (const [name, installed, fixed] of row.p) {
      const li = el("li");
      li.appendChild(el("span", "package", name));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "installed", installed));
      li.appendChild(document.createTextNode(" → "));
      li.appendChild(el("span", "fixed", fixed));
      ul.appendChild(li);
    }
    cell.appendChild(ul);
    return cell;
  }

  function why(row) {
    const cell = el("td", "why");
    cell.appendChild(list("rules", row.w.map((i) => strings[i])));
    if (row.ex) {
      cell.appendChild(list("exception", row.ex.map((i) => "excepted by " + strings[i])));
    }
    if (row.f.length) {
      cell.appendChild(el("div", "facts", row.f.map((i) => strings[i]).join(" · ")));
    }
    if (row.x.length) {
      const details = el("details", "provenance");
      details.appendChild(el("summary", "", "Where the data came from"));
      details.appendChild(list("data", row.x.map((i) => strings[i])));
      cell.appendChild(details);
    }
    return cell;
  }

  function render(row) {
    const tr = el("tr", "finding decision-" + DECISIONS[row.d]);
    tr.dataset.decision = DECISIONS[row.d];
    tr.appendChild(el("td", "decision", DECISIONS[row.d]));
    tr.appendChild(el("td", "severity severity-" + String(row.s).toLowerCase(), row.s));
    tr.appendChild(vulnerability(row));
    tr.appendChild(packages(row));
    const score = el("td", "score", row.sc === undefined ? "" : row.sc.toFixed(1));
    if (row.sk !== undefined) {
      score.appendChild(el("div", "score-kind", row.sk));
    }
    tr.appendChild(score);
    tr.appendChild(el("td", "epss", row.es === undefined ? "" : row.es));
    tr.appendChild(el("td", "kev", row.k === 1 ? "yes" : row.k === 0 ? "no" : "unknown"));
    tr.appendChild(why(row));
    return tr;
  }

  function draw() {
    const per = Number(size.value);
    const pages = Math.max(1, Math.ceil(matching.length / per));
    page = Math.min(Math.max(page, 0), pages - 1);
    const fragment = document.createDocumentFragment();
    for (const row of matching.slice(page * per, (page + 1) * per)) {
      fragment.appendChild(render(row));
    }
    body.replaceChildren(fragment);
    pageLabel.textContent = "page " + (page + 1) + " of " + pages;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    shown.textContent = matching.length + " of " + rows.length + " findings shown";
  }

  function apply() {
    const query = filter.value.trim().toLowerCase();
    const allowed = new Set(boxes.filter((box) => box.checked).map((box) => box.value));
    matching = order.filter((row) => allowed.has(DECISIONS[row.d]) &&
      (query === "" || haystack(row).includes(query)));
    page = 0;
    draw();
  }

  function sortBy(header) {
    const key = header.dataset.sort;
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    for (const cell of table.tHead.rows[0].cells) {
      cell.removeAttribute("aria-sort");
    }
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const value = (row) => (row[key] === undefined ? -1 : row[key]);
    order = rows.slice().sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const cmp = typeof x === "string" || typeof y === "string"
        ? String(x).localeCompare(String(y)) : x - y;
      return (ascending ? cmp : -cmp) || a.i - b.i;
    });
    apply();
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
  size.addEventListener("change", () => { page = 0; draw(); });
  previous.addEventListener("click", () => { page -= 1; draw(); });
  next.addEventListener("click", () => { page += 1; draw(); });
  apply();
})();
