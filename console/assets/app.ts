/**
 * The health page's script, run by the browser (compiled by console/assets/tsconfig.json into
 * dist/console/assets/app.js and served as `/app.js`, so the page keeps
 * `Content-Security-Policy: default-src 'self'`). It polls `api/health` and draws a tile per
 * source and, for the selected tile, a row per pod and check. Text from the report only ever goes
 * in through `textContent` / text nodes. The refresh interval is the body's `data-refresh-ms`.
 */
import type { HealthReport } from "../health.js";

type Service = HealthReport["services"][number];

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node;
}

const REFRESH_MS = Number(document.body.dataset.refreshMs) || 10_000;
let selected: string | null = null;
let report: HealthReport | null = null;

function el(tag: string, attributes: Record<string, string>, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

function pods(count: number): string {
  return `${count}${count === 1 ? " pod" : " pods"}`;
}

/**
 * Why a row shows what it shows: for a stale row why it is stale; else the causes when the
 * source has them (an agent's /status), else the reason code (Prometheus).
 */
function why(check: Service["pods"][number]["checks"][number]): string {
  if (check.staleReason !== undefined) return `no recent update: ${check.staleReason}`;
  const causes = (check.causes ?? []).join("; ");
  if (causes !== "" || check.reason === undefined || check.reason === "ok") return causes;
  return check.reason;
}

function selectedService(current: HealthReport): Service | undefined {
  return current.services.find((service) => service.source === selected);
}

function drawTiles(current: HealthReport): void {
  byId("tiles").replaceChildren(
    ...current.services.map((service) => {
      const tile = el(
        "button",
        {
          class: "tile",
          "data-source": service.source,
          "data-shown": service.shown,
          "aria-pressed": String(service.source === selected),
        },
        el("span", { class: "name" }, service.source),
        el(
          "span",
          { class: "state" },
          `${service.shown === "STALE" ? "no recent update" : service.shown} · ${pods(service.pods.length)}`,
        ),
      );
      tile.addEventListener("click", () => {
        selected = selected === service.source ? null : service.source;
        draw();
      });
      return tile;
    }),
  );
}

// The age cells of the drawn rows, in the order of the report's pods and checks: a refresh that
// changes nothing else rewrites them in one pass (linear in rows, however many there are).
let ageCells: HTMLElement[] = [];

function drawDetail(current: HealthReport): void {
  const detail = byId("detail");
  const service = selectedService(current);
  detail.hidden = !service;
  ageCells = [];
  if (!service) return;
  byId("detail-title").textContent = service.source;
  const rows: HTMLElement[] = [];
  for (const pod of service.pods) {
    for (const check of pod.checks) {
      const ageCell = el("td", { class: "age" }, age(check.ageMs));
      ageCells.push(ageCell);
      rows.push(
        el(
          "tr",
          { "data-pod": `${pod.namespace}/${pod.pod}`, "data-check": check.check },
          el("td", {}, pod.namespace ? `${pod.namespace}/${pod.pod}` : pod.pod),
          el("td", {}, check.check),
          el("td", {}, check.type),
          el("td", { class: "health", "data-shown": check.shown }, check.shown),
          ageCell,
          el("td", { class: "why" }, why(check)),
        ),
      );
    }
  }
  byId("detail-rows").replaceChildren(...rows);
}

// What the tiles and rows show, ages aside: when it has not changed, only the ages are
// rewritten, so a refresh keeps the focus, a hover and a text selection where they are.
let drawn: string | null = null;
function shape(current: HealthReport): string {
  return JSON.stringify([
    selected,
    current.services.map((s) => [
      s.source,
      s.shown,
      s.pods.map((p) => [
        p.namespace,
        p.pod,
        p.checks.map((c) => [c.check, c.type, c.shown, c.causes, c.reason, c.staleReason]),
      ]),
    ]),
  ]);
}

// Called only when shape() is unchanged: the rows are the report's pods and checks, in order.
function updateAges(current: HealthReport): void {
  const service = selectedService(current);
  let index = 0;
  for (const pod of service ? service.pods : []) {
    for (const check of pod.checks) {
      const cell = ageCells[index++];
      const text = age(check.ageMs);
      if (cell && cell.textContent !== text) cell.textContent = text;
    }
  }
}

function draw(): void {
  const current = report;
  if (current === null) return;
  byId("overall").dataset.shown = current.overall;
  byId("updated").textContent = `updated ${new Date(current.generatedAt).toLocaleTimeString()}`;
  byId("empty").hidden = current.services.length > 0;
  const now = shape(current);
  if (now === drawn) {
    updateAges(current);
    return;
  }
  drawn = now;
  drawTiles(current);
  drawDetail(current);
}

async function refresh(): Promise<void> {
  const problem = byId("problem");
  try {
    const response = await fetch("api/health", { cache: "no-store" });
    const body = (await response.json()) as HealthReport & { message?: string };
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    report = body;
    problem.hidden = true;
    draw();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    problem.textContent = `Health could not be read: ${message}${report ? " (showing the last report, greyed)" : ""}`;
    problem.hidden = false;
    if (report) {
      report = {
        ...report,
        overall: "STALE",
        services: report.services.map((s) => ({ ...s, shown: "STALE" as const })),
      };
      draw();
    }
  }
}

// A module's bindings are not globals: tests in a real browser (console-page-scale.test.ts) reach
// the drawn report and the redraw through this one name.
Object.assign(globalThis, {
  graftPage: {
    get report() {
      return report;
    },
    draw,
  },
});

void refresh();
setInterval(refresh, REFRESH_MS);
