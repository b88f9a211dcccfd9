/**
 * graft's webhook beside a Go peer, HashiCorp's Vault agent injector (vault-k8s, unmodified, the
 * version bench/peer/go.mod pins), in one run on one machine:
 *
 *   npm run bench:peer          BENCH_SECONDS=10 BENCH_PODS=300 npm run bench:peer
 *
 * Both run as they ship (graft's built CLI, vault-k8s's binary) against a real control plane
 * that this bench starts (test/cluster/cluster.sh, kwok node, its own state dir), with one
 * serving certificate. Measured, each in alternating turns so a shared machine's swings weigh on
 * both alike:
 *  - start-up: exec → the readiness endpoint answers → the first review is answered with a patch;
 *  - resident memory idle and at peak;
 *  - the same pods (Spark driver, JupyterHub single-user, 20 containers) posted as reviews:
 *    server CPU per review, req/s, p50/p99;
 *  - pods created through the real kube-apiserver, 10 at a time, into a namespace each webhook
 *    selects and one neither does: the latency each adds to a create, and how many times the API
 *    server called each webhook per pod (reinvocation).
 * Writes its figures to docs/benchmarks.md between the bench:peer markers.
 *
 * vault-k8s takes its cluster access only from the in-cluster files
 * (/var/run/secrets/kubernetes.io/serviceaccount); the bench gives it a ServiceAccount token of
 * the bench cluster there inside a private mount namespace (`unshare --mount`, root only), so the
 * host's /var/run is untouched.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type Agent, request } from "node:https";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { freePort, run } from "../../test/services/spawn.js";
import { median, memoryMiB, quantile, sideBySide, writeSection } from "../lib/measure.js";
import {
  bigPodReview,
  jupyterReview,
  PLATFORM,
  sixtyFourChecks,
  sixtyFourChecksReview,
  sparkDriverReview,
} from "../webhook/reviews.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOC = path.join(ROOT, "docs/benchmarks.md");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PODS = Number(process.env.BENCH_PODS ?? 300);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const CONCURRENCY = 10;
const CONNECTIONS = 8;
const ROUNDS = 5;

const GRAFT_NAMESPACE = "graft";
const NS = { graft: "peer-graft", vault: "peer-vault", none: "peer-none" } as const;
const VAULT_LABEL = "bench.graft.pnda.io/vault";

type Review = ReturnType<typeof sparkDriverReview>;
type Pod = Record<string, unknown> & { metadata: Record<string, unknown> };

/**
 * The pod as the API server hands it to webhooks: its ServiceAccount admission plugin has already
 * added the projected token volume and mounted it into every container (Vault's injector reads it).
 */
function asAdmitted(review: Review): Review {
  const copy = structuredClone(review) as unknown as {
    request: { object: { spec: { volumes?: unknown[]; containers: { volumeMounts?: unknown[] }[] } } };
  };
  const spec = copy.request.object.spec;
  const name = "kube-api-access-x7k2p";
  spec.volumes = [
    ...(spec.volumes ?? []),
    {
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          {
            downwardAPI: {
              items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
            },
          },
        ],
      },
    },
  ];
  for (const container of spec.containers)
    container.volumeMounts = [
      ...(container.volumeMounts ?? []),
      { name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
    ];
  return copy as unknown as Review;
}

/** The same pod asking the Vault injector for one secret instead of graft's features. */
function forVault(review: Review): Review {
  const copy = structuredClone(asAdmitted(review)) as { request: { namespace: string; object: Pod } };
  const metadata = copy.request.object.metadata;
  const kept = Object.entries((metadata.annotations ?? {}) as Record<string, string>).filter(
    ([key]) => !key.startsWith("graft.pnda.io/"),
  );
  metadata.annotations = {
    ...Object.fromEntries(kept),
    "vault.hashicorp.com/agent-inject": "true",
    "vault.hashicorp.com/role": "app",
    "vault.hashicorp.com/agent-inject-secret-db": "secret/data/app/db",
  };
  copy.request.namespace = NS.vault;
  return copy as unknown as Review;
}

function inNamespace(review: Review, namespace: string): Review {
  const copy = structuredClone(asAdmitted(review)) as { request: { namespace: string } };
  copy.request.namespace = namespace;
  return copy as unknown as Review;
}

type Server = { name: string; child: ChildProcess; pid: number; base: string; mutate: string };

function https(
  url: string,
  options: { ca: string; method?: string; body?: string; agent?: Agent },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? "GET", ca: options.ca, agent: options.agent },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    if (options.body) req.setHeader("content-type", "application/json");
    req.end(options.body);
  });
}

/** Milliseconds from `since` until `probe` resolves true, polling every 5 ms. */
async function until(since: number, what: string, probe: () => Promise<boolean>, child: ChildProcess) {
  const deadline = since + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what}: the process exited ${child.exitCode}`);
    if (await probe().catch(() => false)) return performance.now() - since;
    if (performance.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type Setup = {
  dir: string;
  ca: string;
  kubeconfig: string;
  apiPort: string;
  vaultBin: string;
  token: string;
};

function startGraft(setup: Setup, port: number): ChildProcess {
  return spawn(
    process.execPath,
    [
      // As the image ships it: the bundle (npm run bundle, scripts/bundle.mjs).
      "bundle/bin/graft.js",
      "webhook",
      ...["--host", "127.0.0.1", "--port", String(port), "--drain-delay", "0", "--log-level", "warn"],
      ...["--tls-cert", path.join(setup.dir, "tls.crt"), "--tls-key", path.join(setup.dir, "tls.key")],
      ...["--config", path.join(setup.dir, "graft.yaml"), "--kubeconfig", setup.kubeconfig],
    ],
    // As the Deployment runs it (manifests/base/deployment.yaml).
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=128" },
    },
  );
}

function startVault(setup: Setup, port: number): ChildProcess {
  // In a private mount namespace: a tmpfs over /run holding the in-cluster credentials, then exec.
  // The script is fixed; every value reaches it as a positional parameter.
  const script = [
    "mount -t tmpfs -o size=1m tmpfs /run",
    "dir=/run/secrets/kubernetes.io/serviceaccount",
    'mkdir -p "$dir" && cp "$1" "$dir/token" && cp "$2" "$dir/ca.crt" && printf default > "$dir/namespace"',
    "shift 2",
    'exec "$@"',
  ].join("\n");
  return spawn(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      path.join(setup.dir, "token"),
      path.join(setup.dir, "cluster-ca.crt"),
      setup.vaultBin,
      "agent-inject",
      `-listen=127.0.0.1:${port}`,
      `-tls-cert-file=${path.join(setup.dir, "tls.crt")}`,
      `-tls-key-file=${path.join(setup.dir, "tls.key")}`,
      "-vault-address=https://vault.vault.svc:8200",
      "-log-level=warn",
      "-telemetry-path=/metrics",
    ],
    {
      stdio: "ignore",
      env: { ...process.env, KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: setup.apiPort },
    },
  );
}

/** The pid that serves: unshare's sh execs vault-k8s, so the child's pid is the server's. */
async function startServer(
  name: "graft" | "vault",
  setup: Setup,
): Promise<Server & { startMs: number; readyMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = name === "graft" ? startGraft(setup, port) : startVault(setup, port);
  const base = `https://127.0.0.1:${port}`;
  const readyPath = name === "graft" ? "/readyz" : "/health/ready";
  const mutate = name === "graft" ? `${base}/mutate/namespace` : `${base}/mutate`;
  const review = JSON.stringify(
    name === "graft" ? inNamespace(sparkDriverReview(), NS.graft) : forVault(sparkDriverReview()),
  );
  const server = { name, child, pid: child.pid!, base, mutate };
  try {
    const timings = await firstAnswers(server, setup, readyPath, review, t0);
    return { ...server, ...timings };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

async function firstAnswers(server: Server, setup: Setup, readyPath: string, review: string, t0: number) {
  const { name, base, mutate, child } = server;
  const readyMs = await until(
    t0,
    `${name} ready`,
    async () => {
      const reply = await https(`${base}${readyPath}`, { ca: setup.ca });
      return reply.status >= 200 && reply.status < 300;
    },
    child,
  );
  let last = "";
  const startMs = await until(
    t0,
    `${name} first review`,
    async () => {
      const reply = await https(mutate, { ca: setup.ca, method: "POST", body: review });
      last = `${reply.status} ${reply.body.slice(0, 400)}`;
      return reply.status === 200 && reply.body.includes('"patch"');
    },
    child,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; last reply: ${last}`);
  });
  return { startMs, readyMs };
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (server.child.exitCode === null) server.child.kill("SIGKILL");
}

async function cluster(stateDir: string, ...args: string[]) {
  const ran = await run("bash", [path.join(ROOT, "test/cluster/cluster.sh"), ...args], {
    env: { ...process.env, GRAFT_CLUSTER_DIR: stateDir, GRAFT_CLUSTER_NODE: "kwok" },
  });
  if (ran.code !== 0) throw new Error(`cluster.sh ${args.join(" ")} failed:\n${ran.stderr.slice(-3000)}`);
  return ran.stdout;
}

async function kubectl(stateDir: string, args: string[], input?: string) {
  const ran = await run("bash", [path.join(ROOT, "test/cluster/cluster.sh"), "kubectl", ...args], {
    input,
    env: { ...process.env, GRAFT_CLUSTER_DIR: stateDir, GRAFT_CLUSTER_NODE: "kwok" },
  });
  if (ran.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${ran.stderr}`);
  return ran.stdout;
}

/** Sum of a counter or histogram count in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error("bench:peer needs root (unshare --mount for vault-k8s's in-cluster files)");
  const vaultBin = (await run("bash", [path.join(ROOT, "bench/peer/build.sh")])).stdout.trim();
  const build = await run("npm", ["run", "build"], { cwd: ROOT });
  if (build.code !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  // The version go.mod pins (the binary built without release ldflags says 0.0.0).
  const vaultVersion = /github\.com\/hashicorp\/vault-k8s (v\S+)/.exec(
    await readFile(path.join(ROOT, "bench/peer/go.mod"), "utf8"),
  )?.[1];
  const kubernetesVersion = /^K8S_VERSION=(\S+)/m.exec(
    await readFile(path.join(ROOT, "test/cluster/versions.env"), "utf8"),
  )?.[1];

  const dir = await mkdtemp(path.join(os.tmpdir(), "graft-bench-peer-"));
  const stateDir = path.join(dir, "cluster");
  const servers: Server[] = [];
  try {
    const up = await cluster(stateDir, "up");
    const kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up)?.[1]?.trim() ?? "";
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const apiPort = new URL(kc.getCurrentCluster()!.server).port;
    const core = kc.makeApiClient(k8s.CoreV1Api);

    // One serving certificate for both; the cluster's CA for vault-k8s's in-cluster client.
    const authority = createAuthority({ now: new Date() });
    const serving = issueServingCert(authority, { ipAddresses: ["127.0.0.1"], now: new Date() });
    await writeFile(path.join(dir, "tls.crt"), serving.cert);
    await writeFile(path.join(dir, "tls.key"), serving.key);
    await writeFile(path.join(dir, "ca.crt"), authority.cert);
    await writeFile(path.join(dir, "cluster-ca.crt"), await readFile(path.join(stateDir, "pki/ca.crt")));
    await writeFile(
      path.join(dir, "graft.yaml"),
      `namespace: ${GRAFT_NAMESPACE}\nagent:\n  image: ghcr.io/graft/graft:0.1.0\n`,
    );

    await core.createNamespace({ body: { metadata: { name: GRAFT_NAMESPACE } } });
    await core.createNamespace({
      body: { metadata: { name: NS.graft, labels: { "graft.pnda.io/inject": "enabled" } } },
    });
    await core.createNamespace({
      body: { metadata: { name: NS.vault, labels: { [VAULT_LABEL]: "enabled" } } },
    });
    await core.createNamespace({ body: { metadata: { name: NS.none } } });
    await core.createNamespacedConfigMap({
      namespace: GRAFT_NAMESPACE,
      body: { metadata: { name: "graft-platform" }, data: Object.fromEntries(PLATFORM) },
    });
    await kubectl(stateDir, ["-n", "default", "create", "serviceaccount", "vault-agent-injector"]);
    // What the Vault chart's ClusterRole grants the injector.
    await kubectl(stateDir, [
      "create",
      "clusterrole",
      "vault-agent-injector",
      "--verb=get,list,watch,patch",
      "--resource=mutatingwebhookconfigurations",
    ]);
    await kubectl(stateDir, [
      "create",
      "clusterrolebinding",
      "vault-agent-injector",
      "--clusterrole=vault-agent-injector",
      "--serviceaccount=default:vault-agent-injector",
    ]);
    const token = (
      await kubectl(stateDir, ["-n", "default", "create", "token", "vault-agent-injector", "--duration=2h"])
    ).trim();
    await writeFile(path.join(dir, "token"), token);
    const setup: Setup = { dir, ca: authority.cert, kubeconfig, apiPort, vaultBin, token };

    // Start-up, STARTS times each, alternating.
    const starts: Record<"graft" | "vault", { ready: number[]; first: number[] }> = {
      graft: { ready: [], first: [] },
      vault: { ready: [], first: [] },
    };
    for (let i = 0; i < STARTS; i++) {
      for (const name of i % 2 === 0 ? (["graft", "vault"] as const) : (["vault", "graft"] as const)) {
        const server = await startServer(name, setup);
        starts[name].ready.push(server.readyMs);
        starts[name].first.push(server.startMs);
        await stop(server);
      }
    }
    console.log(JSON.stringify({ starts }));

    const graft = await startServer("graft", setup);
    const vault = await startServer("vault", setup);
    servers.push(graft, vault);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const idle = { graft: await memoryMiB(graft.pid), vault: await memoryMiB(vault.pid) };

    // The same pods as reviews, alternating slices.
    const pods = [
      { name: "Spark driver", review: sparkDriverReview() },
      { name: "JupyterHub single-user", review: jupyterReview() },
      { name: "20 containers, 300 env vars", review: bigPodReview(20, 300) },
    ];
    const reviewRows: string[] = [];
    // Issue 10's aim for the checks parse: an unseen 64-check annotation costs graft no more than
    // Vault's whole admission. graft gets the Spark driver with a 64-check annotation new on every
    // request (no memo helps), Vault its own Spark driver.
    let sequence = 0;
    const sixtyFour = {
      name: "Spark driver; graft's with 64 checks new on every request",
      graft: () => JSON.stringify(inNamespace(sixtyFourChecksReview(sixtyFourChecks(sequence++)), NS.graft)),
      vault: JSON.stringify(forVault(sparkDriverReview())),
    };
    for (const pod of pods) {
      const graftBody = JSON.stringify(inNamespace(pod.review, NS.graft));
      const vaultBody = JSON.stringify(forVault(pod.review));
      // Warm both (JIT, TLS sessions, graft's properties ConfigMap for this app).
      for (const [server, body] of [
        [graft, graftBody],
        [vault, vaultBody],
      ] as const) {
        const reply = await https(server.mutate, { ca: setup.ca, method: "POST", body });
        if (!reply.body.includes('"patch"'))
          throw new Error(`${server.name} did not patch ${pod.name}: ${reply.body.slice(0, 500)}`);
      }
      const result = await sideBySide(
        { url: graft.mutate, pid: graft.pid, body: graftBody },
        { url: vault.mutate, pid: vault.pid, body: vaultBody },
        { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS },
      );
      if (result.a.errors + result.b.errors > 0) throw new Error(`${pod.name}: failed requests`);
      reviewRows.push(
        `| ${pod.name} | ${result.a.cpuUsPerRequest.toFixed(0)} / ${result.b.cpuUsPerRequest.toFixed(0)} | **${result.cpuRatio.toFixed(2)}** | ${result.a.requestsPerSecond.toFixed(0)} / ${result.b.requestsPerSecond.toFixed(0)} | ${result.a.p50Ms} / ${result.a.p99Ms} | ${result.b.p50Ms} / ${result.b.p99Ms} |`,
      );
      console.log(reviewRows.at(-1));
    }
    {
      const reply = await https(graft.mutate, { ca: setup.ca, method: "POST", body: sixtyFour.graft() });
      if (!reply.body.includes('"patch"'))
        throw new Error(`graft did not patch: ${reply.body.slice(0, 500)}`);
      const result = await sideBySide(
        { url: graft.mutate, pid: graft.pid, body: sixtyFour.graft },
        { url: vault.mutate, pid: vault.pid, body: sixtyFour.vault },
        { seconds: SECONDS, connections: CONNECTIONS, rounds: ROUNDS },
      );
      if (result.a.errors + result.b.errors > 0) throw new Error(`${sixtyFour.name}: failed requests`);
      reviewRows.push(
        `| ${sixtyFour.name} | ${result.a.cpuUsPerRequest.toFixed(0)} / ${result.b.cpuUsPerRequest.toFixed(0)} | **${result.cpuRatio.toFixed(2)}** | ${result.a.requestsPerSecond.toFixed(0)} / ${result.b.requestsPerSecond.toFixed(0)} | ${result.a.p50Ms} / ${result.a.p99Ms} | ${result.b.p50Ms} / ${result.b.p99Ms} |`,
      );
      console.log(reviewRows.at(-1));
    }
    const peak = { graft: await memoryMiB(graft.pid, "VmHWM"), vault: await memoryMiB(vault.pid, "VmHWM") };

    // Pods through the real API server.
    const graftConfig = await run(
      process.execPath,
      [
        "bin/graft.js",
        "webhook-configuration",
        ...[
          "--url",
          graft.base,
          "--ca-file",
          path.join(dir, "ca.crt"),
          "--config",
          path.join(dir, "graft.yaml"),
        ],
      ],
      { cwd: ROOT },
    );
    if (graftConfig.code !== 0) throw new Error(`graft webhook-configuration: ${graftConfig.stderr}`);
    await kubectl(stateDir, ["apply", "-f", "-"], graftConfig.stdout);
    // As the Vault Helm chart registers the injector (failurePolicy Ignore, no reinvocation), by URL.
    await kubectl(
      stateDir,
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: "vault-agent-injector-cfg" },
        webhooks: [
          {
            name: "vault.hashicorp.com",
            admissionReviewVersions: ["v1", "v1beta1"],
            clientConfig: { url: vault.mutate, caBundle: Buffer.from(authority.cert).toString("base64") },
            failurePolicy: "Ignore",
            matchPolicy: "Exact",
            namespaceSelector: { matchLabels: { [VAULT_LABEL]: "enabled" } },
            objectSelector: {
              matchExpressions: [
                { key: "app.kubernetes.io/name", operator: "NotIn", values: ["vault-agent-injector"] },
              ],
            },
            rules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"] },
            ],
            sideEffects: "None",
            timeoutSeconds: 30,
          },
        ],
      }),
    );
    // Let the API server's webhook informers see both configurations.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const podFor = (namespace: string, index: number) => {
      const review = namespace === NS.vault ? forVault(sparkDriverReview()) : sparkDriverReview();
      const pod = structuredClone((review as unknown as { request: { object: Pod } }).request.object);
      if (namespace === NS.none) pod.metadata.annotations = {};
      pod.metadata = {
        name: `driver-${index}`,
        labels: pod.metadata.labels,
        annotations: pod.metadata.annotations,
      };
      return pod as k8s.V1Pod;
    };
    const metricsBefore = {
      graft: metricSum(
        (await https(`${graft.base}/metrics`, { ca: setup.ca })).body,
        "graft_webhook_requests_total",
      ),
      vault: metricSum(
        (await https(`${vault.base}/metrics`, { ca: setup.ca })).body,
        "vault_agent_injector_request_processing_duration_ms_count",
      ),
    };
    const latencies: Record<keyof typeof NS, number[]> = { graft: [], vault: [], none: [] };
    const names = Object.keys(NS) as (keyof typeof NS)[];
    let index = 0;
    for (let round = 0; round * CONCURRENCY < PODS; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]!);
      for (const which of order) {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            const pod = podFor(NS[which], index++);
            const t0 = performance.now();
            await core.createNamespacedPod({ namespace: NS[which], body: pod });
            latencies[which].push(performance.now() - t0);
          }),
        );
      }
      if (round % 5 === 4) {
        for (const namespace of Object.values(NS))
          await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
      }
    }
    const calls = {
      graft:
        metricSum(
          (await https(`${graft.base}/metrics`, { ca: setup.ca })).body,
          "graft_webhook_requests_total",
        ) - metricsBefore.graft,
      vault:
        metricSum(
          (await https(`${vault.base}/metrics`, { ca: setup.ca })).body,
          "vault_agent_injector_request_processing_duration_ms_count",
        ) - metricsBefore.vault,
    };
    const p50 = {
      graft: median(latencies.graft),
      vault: median(latencies.vault),
      none: median(latencies.none),
    };
    const p99 = {
      graft: quantile(latencies.graft, 0.99),
      vault: quantile(latencies.vault, 0.99),
      none: quantile(latencies.none, 0.99),
    };
    const added = { graft: p50.graft - p50.none, vault: p50.vault - p50.none };

    const ms = (n: number) => n.toFixed(0);
    const ratio = (a: number, b: number) => `**${(a / b).toFixed(2)}**`;
    const body = [
      "## Webhook beside a Go peer: the Vault agent injector",
      "",
      `Measured by \`npm run bench:peer\` (bench/peer/run.ts) on ${new Date().toISOString().slice(0, 10)}: graft ${process.env.npm_package_version ?? ""} on Node ${process.version} beside vault-k8s ${vaultVersion} (HashiCorp's Vault agent injector built unmodified from its Go module by bench/peer/build.sh), ${os.cpus().length} CPUs shared with other work. Both as they ship, with one serving certificate, against the bench's own control plane (test/cluster, kube-apiserver ${kubernetesVersion}, kwok node); every figure alternates the two in turns. Ratios are graft / Vault: below 1 graft is ahead.`,
      "",
      "| measure | graft | Vault injector | graft / Vault |",
      "| --- | ---: | ---: | ---: |",
      `| exec → readiness endpoint answers (ms, median of ${STARTS}) | ${ms(median(starts.graft.ready))} | ${ms(median(starts.vault.ready))} | ${ratio(median(starts.graft.ready), median(starts.vault.ready))} |`,
      `| exec → first review answered with a patch (ms) | ${ms(median(starts.graft.first))} | ${ms(median(starts.vault.first))} | ${ratio(median(starts.graft.first), median(starts.vault.first))} |`,
      `| RSS idle (MiB) | ${idle.graft.toFixed(0)} | ${idle.vault.toFixed(0)} | ${ratio(idle.graft, idle.vault)} |`,
      `| RSS peak over the review load (MiB) | ${peak.graft.toFixed(0)} | ${peak.vault.toFixed(0)} | ${ratio(peak.graft, peak.vault)} |`,
      `| pod create through the API server, p50 / p99 (ms; no webhook: ${ms(p50.none)} / ${ms(p99.none)}) | ${ms(p50.graft)} / ${ms(p99.graft)} | ${ms(p50.vault)} / ${ms(p99.vault)} | |`,
      `| latency added to a pod create, p50 (ms) | ${ms(added.graft)} | ${ms(added.vault)} | ${ratio(Math.max(added.graft, 0.5), Math.max(added.vault, 0.5))} |`,
      `| webhook calls per pod created | ${(calls.graft / latencies.graft.length).toFixed(2)} | ${(calls.vault / latencies.vault.length).toFixed(2)} | |`,
      "",
      `The same pods as AdmissionReviews (graft's features for graft, one Vault secret for Vault), HTTPS keep-alive, ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} alternating slices; the ratio is the median of the slices' ratios of server CPU per review:`,
      "",
      "| pod | server CPU per review, graft / Vault (µs) | CPU ratio | req/s, graft / Vault | graft p50 / p99 (ms) | Vault p50 / p99 (ms) |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...reviewRows,
      "",
      `Pods: ${PODS} per namespace, ${CONCURRENCY} created at a time, rounds alternating between a namespace graft selects (Spark driver: properties + agent), one Vault selects (the same pod with Vault's annotations) and one neither does; registered as each project registers itself (graft: \`graft webhook-configuration\`; Vault: its Helm chart's configuration, by URL).`,
    ].join("\n");
    await writeSection(DOC, "<!-- bench:peer:start -->", "<!-- bench:peer:end -->", body);
    console.log(body);
  } finally {
    for (const server of servers) await stop(server);
    await cluster(stateDir, "down").catch((error: unknown) => console.error(String(error)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
