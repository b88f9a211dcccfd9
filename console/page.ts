/**
 * The health page: static HTML, CSS and the browser script (console/assets/app.ts, compiled for
 * the browser by `npm run build`) that polls `/api/health` and draws a tile per source, coloured
 * as PNDA's console coloured them, with a drill-down per pod. The script and style are files of
 * their own, so the page runs under `Content-Security-Policy: default-src 'self'`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { COLOURS } from "./health.js";

/** The page; the script reads how often to refresh from the body's `data-refresh-ms`. */
export const pageHtml = (refreshMs: number): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>graft — platform health</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="app.css">
<script type="module" src="app.js"></script>
</head>
<body data-refresh-ms="${Math.max(100, Math.round(refreshMs))}">
<header>
  <span id="overall" class="light" data-shown="STALE" title="overall health"></span>
  <h1>Platform health</h1>
  <span id="updated"></span>
</header>
<p id="problem" role="alert" hidden></p>
<main>
  <section id="tiles" aria-label="services"></section>
  <h2 class="view">Applications</h2>
  <section id="apps" aria-label="applications"></section>
  <section id="detail" aria-live="polite" hidden>
    <h2 id="detail-title"></h2>
    <table>
      <thead><tr><th>pod</th><th>check</th><th>type</th><th>health</th><th>last run</th><th>why</th></tr></thead>
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
h2.view { margin-top: 20px; }
#apps { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
.app { border: 1px solid #0002; border-radius: 6px; padding: 10px; }
.app .name { font-weight: 600; font-size: 16px; margin-bottom: 6px; }
.component { display: block; width: 100%; margin-top: 4px; border: 1px solid #0002; border-radius: 4px; padding: 6px 8px; text-align: left; font: inherit; cursor: pointer; }
.component[aria-pressed="true"] { outline: 3px solid #333; }
#detail { margin-top: 20px; background: #fff; border: 1px solid #ddd; padding: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
td.health { font-weight: 600; }
${shownRules}
`;

/**
 * Where `npm run build` writes the compiled script: beside this module in dist/, and read from
 * dist/ when this module runs from the source tree (tests).
 */
const SCRIPT_LOCATIONS = [
  new URL("./assets/app.js", import.meta.url),
  new URL("../dist/console/assets/app.js", import.meta.url),
];

/** The compiled browser script; throws naming the build step when it was never built. */
export function readPageScript(): string {
  for (const location of SCRIPT_LOCATIONS) {
    try {
      return readFileSync(location, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  const tried = SCRIPT_LOCATIONS.map((location) => fileURLToPath(location)).join(" or ");
  throw new Error(`the console's page script is not built (no ${tried}): run npm run build`);
}
