/**
 * The health page's script, run by the browser (compiled by console/assets/tsconfig.json into
 * dist/console/assets/app.js and served as `/app.js`, so the page keeps
 * `Content-Security-Policy: default-src 'self'`). It polls `api/health` and draws a tile per
 * source, the Applications view (each app, its components and their worst health) and, for the
 * selected tile or component, a row per pod and check. Text from the report only ever goes
 * in through `textContent` / text nodes. The refresh interval is the body's `data-refresh-ms`.
 */
import type { HealthReport } from "../health.js";

type Service = HealthReport["services"][number];
type Pod = Service["pods"][number];

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node;
}

const REFRESH_MS = Number(document.body.dataset.refreshMs) || 10_000;
/** The selected tile's source, or the selected component as JSON [app, component]: one at a time. */
let selected: string | null = null;
let selectedComponent: string | null = null;
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

/** What the detail table shows: the selected tile's pods, or the selected component's. */
function selectedPods(current: HealthReport): { title: string; pods: Pod[] } | undefined {
  if (selected !== null) {
    const service = current.services.find((candidate) => candidate.source === selected);
    return service && { title: service.source, pods: service.pods };
  }
  if (selectedComponent === null) return undefined;
  const [app, component] = JSON.parse(selectedComponent) as [string, string];
  const found = current.applications
    .find((candidate) => candidate.app === app)
    ?.components.find((candidate) => candidate.component === component);
  return found && { title: `${app} / ${component}`, pods: found.pods };
}

function shownText(shown: string): string {
  return shown === "STALE" ? "no recent update" : shown;
}

function drawApplications(current: HealthReport): void {
  byId("apps").replaceChildren(
    ...current.applications.map((application) =>
      el(
        "section",
        { class: "app", "data-app": application.app, "data-shown": application.shown },
        el("div", { class: "name" }, `${application.app} · ${shownText(application.shown)}`),
        ...application.components.map((component) => {
          const key = JSON.stringify([application.app, component.component]);
          const button = el(
            "button",
            {
              class: "component",
              "data-component": component.component,
              "data-shown": component.shown,
              "aria-pressed": String(key === selectedComponent),
            },
            `${component.component} · ${shownText(component.shown)} · ${pods(component.pods.length)}`,
          );
          button.addEventListener("click", () => {
            selectedComponent = selectedComponent === key ? null : key;
            selected = null;
            draw();
          });
          return button;
        }),
      ),
    ),
  );
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
        el("span", { class: "state" }, `${shownText(service.shown)} · ${pods(service.pods.length)}`),
      );
      tile.addEventListener("click", () => {
        selected = selected === service.source ? null : service.source;
        selectedComponent = null;
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
  const shown = selectedPods(current);
  detail.hidden = !shown;
  ageCells = [];
  if (!shown) return;
  byId("detail-title").textContent = shown.title;
  const rows: HTMLElement[] = [];
  for (const pod of shown.pods) {
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
function podsShape(pods: Pod[]): unknown {
  return pods.map((p) => [
    p.namespace,
    p.pod,
    p.checks.map((c) => [c.check, c.type, c.shown, c.causes, c.reason, c.staleReason]),
  ]);
}
function shape(current: HealthReport): string {
  return JSON.stringify([
    selected,
    selectedComponent,
    current.services.map((s) => [s.source, s.shown, podsShape(s.pods)]),
    current.applications.map((a) => [
      a.app,
      a.shown,
      a.components.map((c) => [c.component, c.shown, podsShape(c.pods)]),
    ]),
  ]);
}

// Called only when shape() is unchanged: the rows are the report's pods and checks, in order.
function updateAges(current: HealthReport): void {
  const shown = selectedPods(current);
  let index = 0;
  for (const pod of shown ? shown.pods : []) {
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
  drawApplications(current);
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
        applications: report.applications.map((a) => ({
          ...a,
          shown: "STALE" as const,
          components: a.components.map((c) => ({ ...c, shown: "STALE" as const })),
        })),
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
