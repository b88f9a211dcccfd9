// JupyterHub with KubeSpawner (both from PyPI, test/node/jupyterhub/install.sh) on the host,
// against the real node's API server, spawning single-user servers (graft.local/jupyter:1:
// Debian + jupyter_server + jupyterhub-singleuser from PyPI) into a namespace labelled for graft,
// configured as manifests/examples/jupyterhub-values.yaml says. graft is installed from
// manifests/ (test/node/graft.ts); the notebook git server from manifests/notebooks runs beside.
// The hub's REST API (a service token) starts and stops servers; notebooks are read and edited
// with the Jupyter contents API through the hub's proxy (configurable-http-proxy, npm).
//
// No storage provisioner on the test node: each user's home is a hostPath folder made for the
// test (what a PVC gives on a real cluster), so a restarted server finds its edits.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NOTEBOOK_SYNC_SCRIPT,
  NOTEBOOK_SYNC_VERIFIER,
} from "../../webhook/features/notebooks/sync-script.js";
import { eventually, kubeConfig, kubeconfigPath, uniqueName } from "../e2e/kube.js";
import { cacheDir, freePort, type Started, startProcess, tempDir, waitFor } from "../services/spawn.js";
import { bash, installGraft, JUPYTER_IMAGE, kubectl, must, repo, timed, uninstallGraft } from "./graft.js";
import { namespaceReady, whileScaledToZero } from "./helpers.js";

const kc = kubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const namespace = uniqueName("graft-jhub");
const GIT = "deployment-manager-git";
const TAG = "jupyterhub";
const TOKEN = `graft-test-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const SPAWNER_VENV = path.join(cacheDir(), "kubespawner", "venv");
const PROXY = path.join(cacheDir(), "jupyterhub", "proxy", "node_modules", ".bin", "configurable-http-proxy");

let hub: Started | undefined;
let hubUrl = "";
let work: { dir: string; remove: () => Promise<void> } | undefined;

const notebook = (text: string) =>
  JSON.stringify({
    cells: [{ cell_type: "markdown", metadata: {}, source: [text] }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });

/** Publishes FILES (path → content) as a new commit of jupyter-USER on the git server pod. */
async function publish(user: string, files: Record<string, string>): Promise<void> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/name=${GIT}` });
  const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp)?.metadata?.name ?? "";
  const args = Object.entries(files).flat();
  await must(
    "publish to the git server",
    kubectl([
      "-n",
      namespace,
      "exec",
      pod,
      "-c",
      "fcgiwrap",
      "--",
      "sh",
      "-ec",
      [
        'repo="/srv/git/jupyter-$1"; shift',
        '[ -d "$repo" ] || git init -q --bare --initial-branch=main "$repo"',
        'work=$(mktemp -d) && cd "$work"',
        'if git clone -q "$repo" . 2>/dev/null && git rev-parse -q --verify HEAD >/dev/null; then :; else git init -q --initial-branch=main; fi',
        'while [ $# -gt 0 ]; do mkdir -p "$(dirname "$1")" && printf %s "$2" >"$1"; shift 2; done',
        "git add -A && git -c user.name=pnda -c user.email=pnda@example.invalid commit -qm publish",
        'git push -q "$repo" HEAD:main && cd / && rm -rf "$work"',
      ].join("\n"),
      "sh",
      user,
      ...args,
    ]),
  );
}

/** The hub's REST API with the test's service token. */
async function hubApi(
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${hubUrl}/hub/api${route}`, {
    method,
    headers: { Authorization: `token ${TOKEN}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

type HubUser = { servers?: Record<string, { ready: boolean; pending: string | null }> };

/** Starts USER's server through the hub; resolves when the hub says it is ready, with seconds taken. */
async function startServer(user: string, timeoutMs = 150_000): Promise<number> {
  const started = Date.now();
  const created = await hubApi("POST", `/users/${encodeURIComponent(user)}`);
  expect([201, 409]).toContain(created.status);
  const spawn = await hubApi("POST", `/users/${encodeURIComponent(user)}/server`);
  expect([201, 202], JSON.stringify(spawn.json)).toContain(spawn.status);
  await eventually(
    `${user}'s server ready (hub)`,
    async () => {
      const { json } = await hubApi("GET", `/users/${encodeURIComponent(user)}`);
      const server = (json as HubUser).servers?.[""];
      return server?.ready === true;
    },
    { timeoutMs, intervalMs: 1000 },
  );
  return (Date.now() - started) / 1000;
}

async function stopServer(user: string): Promise<void> {
  const stop = await hubApi("DELETE", `/users/${encodeURIComponent(user)}/server`);
  expect([202, 204]).toContain(stop.status);
  await eventually(
    `${user}'s server stopped`,
    async () => {
      const { json } = await hubApi("GET", `/users/${encodeURIComponent(user)}`);
      return Object.keys((json as HubUser).servers ?? {}).length === 0;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  );
}

/** The Jupyter contents API of USER's server, through the hub's proxy. */
async function contents(user: string, route: string, init: RequestInit = {}): Promise<Response> {
  const tail = route.startsWith("?") ? route : `/${route}`;
  // The server's base URL carries the name as the hub has it (`/user/carol@example.org/`):
  // tornado matches routes on the raw path, so `@` must not arrive as `%40`.
  return fetch(`${hubUrl}/user/${encodeURIComponent(user).replaceAll("%40", "@")}/api/contents${tail}`, {
    ...init,
    headers: { Authorization: `token ${TOKEN}`, ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(30_000),
  });
}

async function listing(user: string, folder: string): Promise<string[]> {
  const response = await contents(user, `${folder}?content=1`);
  if (response.status !== 200)
    throw new Error(`GET contents ${folder}: ${response.status} ${await response.text()}`);
  const doc = (await response.json()) as { content: { name: string }[] };
  return doc.content.map((e) => e.name).sort();
}

async function readNotebookText(user: string, file: string): Promise<string> {
  const response = await contents(user, `${file}?content=1`);
  const doc = (await response.json()) as { content: { cells: { source: string | string[] }[] } };
  const source = doc.content.cells[0]?.source ?? "";
  return Array.isArray(source) ? source.join("") : source;
}

beforeAll(async () => {
  await timed(TAG, "test/node/jupyterhub/install.sh", () =>
    must("jupyterhub install.sh", bash([`${repo}test/node/jupyterhub/install.sh`])),
  );
  await must("test/services/jupyterhub/install.sh", bash([`${repo}test/services/jupyterhub/install.sh`]));
  await installGraft(TAG);
  await core.createNamespace({
    body: { metadata: { name: namespace, labels: { "graft.pnda.io/inject": "enabled" } } },
  });
  await namespaceReady(core, namespace);
  await must(
    "kubectl apply -k test/node/notebooks",
    kubectl(["-n", namespace, "apply", "-k", `${repo}test/node/notebooks`]),
  );
  await eventually(
    `Deployment ${GIT} Available`,
    async () =>
      (await apps.readNamespacedDeployment({ name: GIT, namespace })).status?.availableReplicas === 1,
    { timeoutMs: 120_000, intervalMs: 1000 },
  );

  // The hub: on the host, the API for servers on the node's address (pods call it back), the
  // proxy on 127.0.0.1 (it reaches pod IPs through the node's bridge).
  const [node] = (await core.listNode()).items;
  const nodeIP = node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "";
  work = await tempDir("kubespawner");
  const homes = path.join(work.dir, "homes");
  await mkdir(homes);
  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  hubUrl = `http://127.0.0.1:${port}`;
  const config = `
c.JupyterHub.bind_url = "${hubUrl}"
c.JupyterHub.hub_ip = "${nodeIP}"
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:${proxyApiPort}"
c.ConfigurableHTTPProxy.command = [${JSON.stringify(PROXY)}]
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.db_url = "sqlite:///${work.dir}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "${work.dir}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "${work.dir}/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{"name": "graft-test", "api_token": "${TOKEN}"}]
c.JupyterHub.load_roles = [{"name": "graft-test", "scopes": ["admin:users", "admin:servers", "access:servers", "read:users"], "services": ["graft-test"]}]
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.namespace = "${namespace}"
c.KubeSpawner.image = "${JUPYTER_IMAGE}"
c.KubeSpawner.image_pull_policy = "Never"
c.KubeSpawner.cmd = ["jupyterhub-singleuser"]
c.KubeSpawner.uid = 1000
c.KubeSpawner.gid = 1000
c.KubeSpawner.fs_gid = 1000
c.KubeSpawner.start_timeout = 150
c.KubeSpawner.http_timeout = 120
# manifests/examples/jupyterhub-values.yaml, as KubeSpawner settings
c.KubeSpawner.extra_labels = {"graft.pnda.io/inject": "enabled"}
c.KubeSpawner.extra_annotations = {"graft.pnda.io/component-type": "jupyter", "graft.pnda.io/health": "false"}
# Each user's home: a folder on the node, which is this host (what a PVC gives elsewhere)
import os
def home_on_the_node(spawner, pod):
    home = os.path.join("${homes}", spawner.user.name)
    os.makedirs(home, exist_ok=True)
    os.chown(home, 1000, 1000)
    pod.spec.volumes = (pod.spec.volumes or []) + [{"name": "home", "hostPath": {"path": home, "type": "Directory"}}]
    pod.spec.containers[0].volume_mounts = (pod.spec.containers[0].volume_mounts or []) + [{"name": "home", "mountPath": "/home/jovyan"}]
    return pod
c.KubeSpawner.modify_pod_hook = home_on_the_node
c.KubeSpawner.extra_pod_config = {"terminationGracePeriodSeconds": 2}
`;
  const configFile = path.join(work.dir, "jupyterhub_config.py");
  await writeFile(configFile, config);
  hub = startProcess(path.join(SPAWNER_VENV, "bin", "jupyterhub"), ["-f", configFile], {
    cwd: work.dir,
    env: {
      PATH: `${path.join(SPAWNER_VENV, "bin")}:${process.env.PATH ?? ""}`,
      KUBECONFIG: kubeconfigPath(),
    },
  });
  await waitFor(`JupyterHub on ${hubUrl}`, async () => (await fetch(`${hubUrl}/hub/api`)).ok, {
    process: hub,
    timeoutMs: 90_000,
  });
}, 900_000);

afterAll(async () => {
  for (const user of ["alice", "bob", "carol@example.org"])
    await hubApi("DELETE", `/users/${encodeURIComponent(user)}/server`).catch(() => undefined);
  await hub?.stop();
  if (hub) process.stdout.write(`[${TAG}] hub log tail:\n${hub.output().slice(-3000)}\n`);
  await uninstallGraft(TAG, [namespace]);
  if (work) await rm(work.dir, { recursive: true, force: true });
});

describe("JupyterHub + KubeSpawner spawning through graft on a real node", () => {
  it("starts alice's server with her notebooks in ~/apps-notebooks, listed through the hub's proxy; a restart keeps her edit beside upstream's", async () => {
    await publish("alice", { "wordcount/explore.ipynb": notebook("# upstream v1") });
    const seconds = await startServer("alice");
    process.stdout.write(`[${TAG}] alice's server ready ${seconds.toFixed(1)} s after the spawn request\n`);

    const pod = await core.readNamespacedPod({ name: "jupyter-alice", namespace });
    // KubeSpawner's pod, as graft saw it: the hook on its container `notebook`.
    expect(pod.metadata?.labels?.component).toBe("singleuser-server");
    // The script by reference: graft's verifier reading it from the read-only volume of graft's
    // ConfigMap, checking its SHA-256 against the digest pinned in the pod spec, and running it.
    expect(
      pod.spec?.containers
        .find((c) => c.name === "notebook")
        ?.lifecycle?.postStart?.exec?.command?.slice(0, 4),
    ).toEqual(["sh", "-c", NOTEBOOK_SYNC_VERIFIER, "/graft/notebook-sync/sync.sh"]);
    const volume = pod.spec?.volumes?.find((v) => v.name === "graft-notebook-sync");
    const script = await core.readNamespacedConfigMap({ name: volume?.configMap?.name ?? "", namespace });
    expect(script.immutable).toBe(true);
    expect(script.data?.["sync.sh"]).toBe(NOTEBOOK_SYNC_SCRIPT);
    expect(await listing("alice", "apps-notebooks")).toEqual(["wordcount"]);
    expect(await listing("alice", "apps-notebooks/wordcount")).toEqual(["explore.ipynb"]);
    expect(await readNotebookText("alice", "apps-notebooks/wordcount/explore.ipynb")).toBe("# upstream v1");

    // alice edits the notebook through the contents API; upstream publishes a change to it and a
    // new notebook.
    const saved = await contents("alice", "apps-notebooks/wordcount/explore.ipynb", {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        type: "notebook",
        format: "json",
        content: JSON.parse(notebook("# alice's edit")),
      }),
    });
    expect(saved.status).toBe(200);
    await saved.text();
    await publish("alice", {
      "wordcount/explore.ipynb": notebook("# upstream v2"),
      "wordcount/new.ipynb": notebook("# new upstream"),
    });

    await stopServer("alice");
    await startServer("alice");
    const names = await listing("alice", "apps-notebooks/wordcount");
    const beside = names.find((n) => /^explore\.upstream-[0-9a-f]+\.ipynb$/.test(n));
    expect(names, names.join(", ")).toEqual(["explore.ipynb", beside, "new.ipynb"].sort());
    expect(await readNotebookText("alice", "apps-notebooks/wordcount/explore.ipynb")).toBe("# alice's edit");
    expect(await readNotebookText("alice", `apps-notebooks/wordcount/${beside}`)).toBe("# upstream v2");
    expect(await readNotebookText("alice", "apps-notebooks/wordcount/new.ipynb")).toBe("# new upstream");
  });

  it("starts bob's server within the hook's bound while the git server is down", async () => {
    await whileScaledToZero({ apps, core }, namespace, GIT, async () => {
      const seconds = await startServer("bob", 120_000);
      process.stdout.write(
        `[${TAG}] bob's server ready ${seconds.toFixed(1)} s after the spawn request, git server down\n`,
      );
      // notebooks.waitSeconds (20 s) plus a start that takes seconds here.
      expect(seconds).toBeLessThan(60);
      const response = await contents("bob", "apps-notebooks");
      expect(response.status).toBe(404);
      await response.text();
    });
  });

  it("starts a server for a username outside graft's allowed set without the sync, and the webhook logs why", async () => {
    const user = "carol@example.org";
    await startServer(user);
    // KubeSpawner escapes the name for the pod; its annotation keeps the username as it is.
    const pods = await core.listNamespacedPod({ namespace, labelSelector: "component=singleuser-server" });
    const pod = pods.items.find((p) => p.metadata?.annotations?.["hub.jupyter.org/username"] === user);
    expect(pod?.metadata?.name).toBeDefined();
    expect(pod?.spec?.containers.find((c) => c.name === "notebook")?.lifecycle?.postStart).toBeUndefined();
    const home = await contents(user, "?content=1");
    expect(home.status).toBe(200);
    const names = ((await home.json()) as { content: { name: string }[] }).content.map((e) => e.name);
    expect(names).not.toContain("apps-notebooks");
    // The admission warning reaches KubeSpawner (which does not show it) and graft's own log.
    const logs = await kubectl([
      "-n",
      "graft",
      "logs",
      "-l",
      "app.kubernetes.io/component=webhook",
      "--tail=-1",
    ]);
    expect(logs.stdout).toContain(pod?.metadata?.name ?? "");
    expect(logs.stdout).toMatch(/"warnings":\[[^\]]*carol@example\.org/);
  });
});
