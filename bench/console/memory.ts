/**
 * Resident memory of `graft console` (the built CLI in a child process, node as the image runs it)
 * idle and under five viewers, over a fake Prometheus or a fake Kubernetes API with fake agents,
 * at a given number of pods with five checks each. Prints one line of JSON per scenario.
 *
 *   npx tsx bench/console/memory.ts [--root DIR] [--pods 1000] [--seconds 20] [--node-options …]
 *
 * `--root` runs another checkout's build (e.g. the one before a change), for a before/after.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    root: { type: "string", default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..") },
    pods: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    "node-options": { type: "string", default: "" },
    only: { type: "string", default: "" },
  },
});
const PODS = Number(args.pods);
const CHECKS = 5;
const VIEWERS = 5;
const MEASURE_MS = Number(args.seconds) * 1000;

async function status(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1]) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

function listen(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      }),
    ),
  );
}

const checkNames = Array.from(
  { length: CHECKS },
  (_, i) => ["kafka", "zookeeper", "hdfs", "spark", "redis"][i]!,
);

/** Prometheus' /api/v1/query for the console's queries (console/sources/prometheus.ts). */
function fakePrometheus(): http.RequestListener {
  const now = Date.now() / 1000;
  return (request, response) => {
    const query = new URL(request.url ?? "/", "http://x").searchParams.get("query") ?? "";
    const health = query.includes("graft_check_health");
    const result = [];
    for (let pod = 0; pod < PODS; pod++) {
      for (const check of checkNames) {
        const metric: Record<string, string> = {
          namespace: `ns-${pod % 50}`,
          pod: `app-${pod}-7f9c8d6b5-x2x4z`,
          instance: `10.1.${Math.floor(pod / 250)}.${pod % 250}:9464`,
          check,
        };
        // What a query without `max by` returns: every target label too.
        if (!query.startsWith("max by")) {
          Object.assign(metric, {
            __name__: health ? "graft_check_health" : "graft_check_last_run_timestamp_seconds",
            job: "graft/graft-agent",
            container: "graft-agent",
            endpoint: "graft-metrics",
          });
        }
        if (health) Object.assign(metric, { type: check, source: check });
        // The console's other queries: every target up, scraped now, each check's reason ok.
        const up = /\(up\)\s*$/.test(query);
        if (query.includes("graft_check_reason")) Object.assign(metric, { reason: "ok" });
        const value = health ? "0" : up || query.includes("graft_check_reason") ? "1" : String(now - 10);
        result.push({ metric, value: [now, value] });
      }
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
  };
}

/** A pod as the API server returns it: managedFields, env, probes, status conditions (~7 KB). */
function pod(index: number, agentPort: number) {
  const name = `app-${index}-7f9c8d6b5-x2x4z`;
  const env = Array.from({ length: 20 }, (_, i) => ({
    name: `APP_SETTING_${i}`,
    value: `value-${i}-${index}`,
  }));
  const container = (containerName: string, port: { name: string; containerPort: number }) => ({
    name: containerName,
    image: `registry.example.com/${containerName}:1.2.3`,
    env,
    ports: [{ ...port, protocol: "TCP" }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    readinessProbe: { httpGet: { path: "/readyz", port: port.containerPort }, periodSeconds: 10 },
    volumeMounts: [{ name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }],
  });
  return {
    metadata: {
      name,
      namespace: `ns-${index % 50}`,
      uid: `00000000-0000-0000-0000-${String(index).padStart(12, "0")}`,
      labels: { app: `app-${index}`, "pod-template-hash": "7f9c8d6b5" },
      annotations: { "graft.pnda.io/checks": "- {name: kafka, type: kafka, brokers: [kafka:9092]}" },
      managedFields: Array.from({ length: 3 }, (_, i) => ({
        manager: `manager-${i}`,
        operation: "Update",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
          "f:spec": { "f:containers": {} },
        },
      })),
    },
    spec: {
      containers: [
        container("app", { name: "http", containerPort: 8080 }),
        container("graft-agent", { name: "graft-metrics", containerPort: agentPort }),
      ],
      nodeName: `node-${index % 20}`,
    },
    status: {
      phase: "Running",
      podIP: "127.0.0.1",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: "2026-11-30T10:00:00Z",
      })),
    },
  };
}

/** GET /api/v1/pods with limit/continue paging (or everything at once without a limit). */
function fakeApiServer(agentPort: number): http.RequestListener {
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://x");
    if (url.pathname !== "/api/v1/pods") {
      response.writeHead(404).end();
      return;
    }
    const limit = Number(url.searchParams.get("limit") ?? PODS) || PODS;
    const from = Number(url.searchParams.get("continue") ?? 0);
    const to = Math.min(PODS, from + limit);
    const items = Array.from({ length: to - from }, (_, i) => pod(from + i, agentPort));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: "1", ...(to < PODS ? { continue: String(to) } : {}) },
        items,
      }),
    );
  };
}

/** Every agent's /status: five checks, one with a cause. */
function fakeAgent(): http.RequestListener {
  return (_request, response) => {
    const timestamp = Date.now() - 5_000;
    const data = checkNames.map((check, i) => ({
      source: check,
      metric: `${check}.health`,
      value: i === 0 ? "WARN" : "OK",
      causes: i === 0 ? [`${check}:9092: 1 under-replicated partition(s): events-3`] : [],
      timestamp,
    }));
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ data, timestamp }));
  };
}

async function measure(name: string, consoleArgs: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    process.execPath,
    [
      path.join(args.root, "bin/graft.js"),
      "console",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...consoleArgs,
    ],
    {
      env: {
        ...process.env,
        ...env,
        ...(args["node-options"] ? { NODE_OPTIONS: args["node-options"] } : {}),
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok) break;
      if (i > 300) throw new Error("the console did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const idle = await status(child.pid!);
    const started = Date.now();
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let pods = 0;
    const viewer = async () => {
      while (Date.now() - started < MEASURE_MS) {
        const at = Date.now();
        const response = await fetch(`${base}/api/health`);
        const report = (await response.json()) as { services?: { pods: unknown[] }[] };
        latencies.push(Date.now() - at);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        pods = Math.max(pods, report.services?.[0]?.pods.length ?? 0);
        if (response.status !== 200 && statuses.size === 1 && latencies.length === 1)
          console.error(JSON.stringify(report));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    };
    const samples: number[] = [];
    const sampler = setInterval(() => void status(child.pid!).then((s) => samples.push(s.rss)), 250);
    await Promise.all(Array.from({ length: VIEWERS }, viewer));
    clearInterval(sampler);
    const end = await status(child.pid!);
    samples.sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    const MiB = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    console.log(
      JSON.stringify({
        scenario: name,
        pods: PODS,
        checks: PODS * CHECKS,
        idleRssMiB: MiB(idle.rss),
        medianRssMiB: MiB(samples[Math.floor(samples.length / 2)] ?? 0),
        peakRssMiB: MiB(end.hwm),
        requests: Object.fromEntries(statuses),
        p50ms: latencies[Math.floor(latencies.length / 2)],
        maxMs: latencies.at(-1),
        podsShown: pods,
      }),
    );
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

const prometheus = await listen(fakePrometheus());
const agents = await listen(fakeAgent());
const api = await listen(fakeApiServer(agents.port));
const dir = await mkdtemp(path.join(os.tmpdir(), "graft-console-bench-"));
const kubeconfig = path.join(dir, "kubeconfig");
await writeFile(
  kubeconfig,
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "fake", cluster: { server: `http://127.0.0.1:${api.port}`, "insecure-skip-tls-verify": true } },
    ],
    users: [{ name: "fake", user: { token: "fake" } }],
    contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
    "current-context": "fake",
  }),
);
try {
  if (args.only !== "kubernetes") {
    await measure("prometheus", ["--prometheus-url", `http://127.0.0.1:${prometheus.port}`], {});
  }
  if (args.only !== "prometheus") {
    await measure("kubernetes", ["--kubeconfig", kubeconfig], {});
  }
} finally {
  await Promise.all([prometheus.close(), agents.close(), api.close()]);
  await rm(dir, { recursive: true, force: true });
}
