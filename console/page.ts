/**
 * The health page: static HTML, CSS and a small script that polls `/api/health` and draws a tile
 * per source, coloured as PNDA's console coloured them, with a drill-down per pod. Text from the
 * report only ever goes in through `textContent`, and the script and style are files of their
 * own, so the page runs under `Content-Security-Policy: default-src 'self'`.
 */
import { COLOURS } from "./health.js";

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>graft — platform health</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <span id="overall" class="light" data-shown="STALE" title="overall health"></span>
  <h1>Platform health</h1>
  <span id="updated"></span>
</header>
<p id="problem" role="alert" hidden></p>
<main>
  <section id="tiles" aria-label="services"></section>
  <section id="detail" aria-live="polite" hidden>
    <h2 id="detail-title"></h2>
    <table>
      <thead><tr><th>pod</th><th>check</th><th>type</th><th>health</th><th>last run</th><th>causes</th></tr></thead>
      <tbody id="detail-rows"></tbody>
    </table>
  </section>
  <p id="empty" hidden>No graft agent reports yet: label a workload <code>graft.pnda.io/inject=enabled</code> with checks, and let Prometheus scrape it.</p>
</main>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${COLOURS.OK}" stroke="#333"/></svg>`;

const shownRules = Object.entries(COLOURS)
  .map(([shown, colour]) => `[data-shown="${shown}"] { background: ${colour}; }`)
  .join("\n");

export const PAGE_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #f7f7f7; }
header { display: flex; align-items: center; gap: 12px; padding: 12px 20px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 18px; margin: 0; flex: 1; }
h2 { font-size: 18px; margin: 0 0 8px; }
#updated { color: #666; }
.light { width: 22px; height: 22px; border-radius: 50%; border: 1px solid #0003; }
#problem { margin: 12px 20px; padding: 8px 12px; background: #fff3cd; border: 1px solid #e0c97a; }
main { padding: 16px 20px; }
#tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; }
.tile { border: 1px solid #0002; border-radius: 6px; padding: 14px; text-align: left; font: inherit; cursor: pointer; }
.tile[aria-pressed="true"] { outline: 3px solid #333; }
.tile .name { display: block; font-weight: 600; font-size: 16px; }
.tile .state { display: block; }
#detail { margin-top: 20px; background: #fff; border: 1px solid #ddd; padding: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
td.health { font-weight: 600; }
${shownRules}
`;

/** Plain browser script (no build step); `REFRESH_MS` is set by the server. */
export function pageScript(refreshMs: number): string {
  return `"use strict";
const REFRESH_MS = ${JSON.stringify(refreshMs)};
let selected = null;
let report = null;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function age(ms) {
  const s = Math.round(ms / 1000);
  return s < 90 ? s + " s ago" : Math.round(s / 60) + " min ago";
}

function pods(count) {
  return count + (count === 1 ? " pod" : " pods");
}

function drawTiles() {
  const tiles = document.getElementById("tiles");
  tiles.replaceChildren(...report.services.map((service) => {
    const tile = el("button", {
      class: "tile",
      "data-source": service.source,
      "data-shown": service.shown,
      "aria-pressed": String(service.source === selected),
    }, el("span", { class: "name" }, service.source), el("span", { class: "state" }, service.shown + " · " + pods(service.pods.length)));
    tile.addEventListener("click", () => {
      selected = selected === service.source ? null : service.source;
      draw();
    });
    return tile;
  }));
}

// The age cells of the drawn rows, in the order of the report's pods and checks: a refresh that
// changes nothing else rewrites them in one pass (linear in rows, however many there are).
let ageCells = [];

function drawDetail() {
  const detail = document.getElementById("detail");
  const service = report.services.find((s) => s.source === selected);
  detail.hidden = !service;
  ageCells = [];
  if (!service) return;
  document.getElementById("detail-title").textContent = service.source;
  const rows = [];
  for (const pod of service.pods) {
    for (const check of pod.checks) {
      const ageCell = el("td", { class: "age" }, age(check.ageMs));
      ageCells.push(ageCell);
      rows.push(el("tr", { "data-pod": pod.namespace + "/" + pod.pod, "data-check": check.check },
        el("td", {}, pod.namespace ? pod.namespace + "/" + pod.pod : pod.pod),
        el("td", {}, check.check),
        el("td", {}, check.type),
        el("td", { class: "health", "data-shown": check.shown }, check.shown),
        ageCell,
        el("td", {}, (check.causes || []).join("; "))));
    }
  }
  document.getElementById("detail-rows").replaceChildren(...rows);
}

// What the tiles and rows show, ages aside: when it has not changed, only the ages are
// rewritten, so a refresh keeps the focus, a hover and a text selection where they are.
let drawn = null;
function shape() {
  return JSON.stringify([selected, report.services.map((s) => [s.source, s.shown, s.pods.map((p) =>
    [p.namespace, p.pod, p.checks.map((c) => [c.check, c.type, c.shown, c.causes])])])]);
}

// Called only when shape() is unchanged: the rows are the report's pods and checks, in order.
function updateAges() {
  const service = report.services.find((s) => s.source === selected);
  let index = 0;
  for (const pod of service ? service.pods : []) {
    for (const check of pod.checks) {
      const cell = ageCells[index++];
      const text = age(check.ageMs);
      if (cell && cell.textContent !== text) cell.textContent = text;
    }
  }
}

function draw() {
  document.getElementById("overall").dataset.shown = report.overall;
  document.getElementById("updated").textContent = "updated " + new Date(report.generatedAt).toLocaleTimeString();
  document.getElementById("empty").hidden = report.services.length > 0;
  const now = shape();
  if (now === drawn) return updateAges();
  drawn = now;
  drawTiles();
  drawDetail();
}

async function refresh() {
  const problem = document.getElementById("problem");
  try {
    const response = await fetch("api/health", { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
    report = body;
    problem.hidden = true;
    draw();
  } catch (error) {
    problem.textContent = "Health could not be read: " + error.message + (report ? " (showing the last report, greyed)" : "");
    problem.hidden = false;
    if (report) {
      report = { ...report, overall: "STALE", services: report.services.map((s) => ({ ...s, shown: "STALE" })) };
      draw();
    }
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
`;
}
