import { createHash } from "node:crypto";
import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig, loadWebhookConfig } from "../../model/config.js";
import type { AdmissionFacts } from "../../model/facts.js";
import type { Container, Pod } from "../../model/kube.js";
import { type AdmissionDecision, admit } from "../../pipeline/admission.js";
import type { AdmissionRequest } from "../../pipeline/review.js";
import { SYNC_INIT_CONTAINER } from "./notebooks.js";
import { SYNC_CONFIGMAP_NAME, syncConfigMap } from "./sync-configmap.js";
import {
  isNotebookSyncCommand,
  NOTEBOOK_SYNC_SCRIPT,
  NOTEBOOK_SYNC_VERIFIER,
  notebookSyncCommand,
} from "./sync-script.js";

const facts: AdmissionFacts = { config: defaultWebhookConfig(), nativeSidecars: true, namespaceOptIn: true };
const FOLDER = "/home/jovyan/apps-notebooks";
const ALICE_COMMAND = notebookSyncCommand({
  repoUrl: "http://deployment-manager-git:8099/jupyter-alice",
  folder: FOLDER,
});
/** In an init container nothing outlives the container: the sync is bounded by the wait. */
const ALICE_INIT_COMMAND = notebookSyncCommand({
  repoUrl: "http://deployment-manager-git:8099/jupyter-alice",
  folder: FOLDER,
  limitSeconds: 20,
});

/** A single-user pod as KubeSpawner makes it, labelled for graft as jupyterhub-values.yaml does. */
function kubeSpawnerPod(
  options: {
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    notebook?: Partial<Container>;
  } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "jupyter-alice",
      labels: { component: "singleuser-server", "hub.jupyter.org/username": "alice", ...options.labels },
      annotations: {
        "hub.jupyter.org/username": "alice",
        "graft.pnda.io/component-type": "jupyter",
        "graft.pnda.io/health": "false",
        ...options.annotations,
      },
    },
    spec: {
      initContainers: [{ name: "block-cloud-metadata", image: "jupyterhub/k8s-network-tools" }],
      containers: [
        {
          name: "notebook",
          image: "quay.io/jupyter/base-notebook:2024-05-27",
          imagePullPolicy: "IfNotPresent",
          env: [
            { name: "JUPYTERHUB_USER", value: "alice" },
            { name: "HOME", value: "/home/jovyan" },
          ],
          resources: { requests: { cpu: "100m", memory: "1Gi", "nvidia.com/gpu": "1" } },
          securityContext: { runAsUser: 1000, runAsGroup: 100 },
          volumeMounts: [{ name: "volume-alice", mountPath: "/home/jovyan" }],
          ...options.notebook,
        },
      ],
      volumes: [{ name: "volume-alice", persistentVolumeClaim: { claimName: "claim-alice" } }],
    },
  };
}

function podRequest(pod: Pod): AdmissionRequest {
  return {
    uid: "u1",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "jhub",
    operation: "CREATE",
    object: pod,
  };
}

function admitted(pod: Pod, withFacts = facts): { decision: AdmissionDecision; pod: Pod } {
  const decision = admit(podRequest(pod), withFacts);
  expect(decision.allowed, decision.message).toBe(true);
  const patched = structuredClone(pod);
  const errors = applyPatch(patched, decision.patch as Parameters<typeof applyPatch>[1]);
  expect(errors.every((error) => error === null)).toBe(true);
  return { decision, pod: patched };
}

const container = (pod: Pod, name: string) => pod.spec?.containers.find((c) => c.name === name);

describe("notebook sync feature", () => {
  it("puts the sync hook for jupyter-<user> on KubeSpawner's notebook container", () => {
    const { pod } = admitted(kubeSpawnerPod());
    expect(container(pod, "notebook")?.lifecycle).toEqual({
      postStart: { exec: { command: ALICE_COMMAND } },
    });
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["block-cloud-metadata"]);
  });

  it("runs the script from a read-only volume of the ConfigMap it asks to be made in the pod's namespace", () => {
    const { decision, pod } = admitted(kubeSpawnerPod());
    expect(decision.create).toEqual([syncConfigMap("jhub")]);
    expect(decision.create[0]).toMatchObject({
      metadata: { name: SYNC_CONFIGMAP_NAME, namespace: "jhub" },
      immutable: true,
      data: { "sync.sh": NOTEBOOK_SYNC_SCRIPT },
    });
    expect(SYNC_CONFIGMAP_NAME).toMatch(/^graft-notebook-sync-[0-9a-f]{10}$/);
    expect(pod.spec?.volumes).toContainEqual({
      name: "graft-notebook-sync",
      configMap: {
        name: SYNC_CONFIGMAP_NAME,
        items: [{ key: "sync.sh", path: "sync.sh" }],
        defaultMode: 0o444,
      },
    });
    expect(container(pod, "notebook")?.volumeMounts).toEqual([
      { name: "volume-alice", mountPath: "/home/jovyan" },
      { name: "graft-notebook-sync", mountPath: "/graft/notebook-sync", readOnly: true },
    ]);
    expect(ALICE_COMMAND.slice(0, 4)).toEqual([
      "sh",
      "-c",
      NOTEBOOK_SYNC_VERIFIER,
      "/graft/notebook-sync/sync.sh",
    ]);
  });

  it("pins in the pod spec the full SHA-256 of the ConfigMap's script, which the hook checks before running it", () => {
    const { decision, pod } = admitted(kubeSpawnerPod());
    const text = (decision.create[0] as { data?: Record<string, string> }).data?.["sync.sh"] ?? "";
    const digest = createHash("sha256").update(text, "utf8").digest("hex");
    const command = container(pod, "notebook")?.lifecycle?.postStart?.exec?.command ?? [];
    expect(command.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(command[2]).toContain(`want=${digest}\n`);
    expect(command[2]).toMatch(/\[ "\$got" = "\$want" \] \|\|/);
    // The user's values stay positional parameters: none is part of the verifier's text.
    expect(command[2]).not.toContain("alice");
    expect(command[2]).not.toContain(FOLDER);
    expect(command.slice(3, 5)).toEqual([
      "/graft/notebook-sync/sync.sh",
      "http://deployment-manager-git:8099/jupyter-alice",
    ]);
  });

  it("keeps the script out of the reply: the patch is a reference of well under 2 KiB", () => {
    const { decision } = admitted(kubeSpawnerPod());
    const patch = JSON.stringify(decision.patch);
    expect(patch).not.toContain("bounded_worker");
    expect(patch.length).toBeLessThan(2048);
    expect(NOTEBOOK_SYNC_SCRIPT.length).toBeGreaterThan(10_000);
  });

  it("admits the pod without the sync, with a warning, when the ConfigMap could not be made", () => {
    const unavailable = { ...facts, notebooks: { unavailable: "the API server answered 403 (forbidden)" } };
    const { decision, pod } = admitted(kubeSpawnerPod(), unavailable);
    expect(container(pod, "notebook")?.lifecycle).toBeUndefined();
    expect(pod.spec?.volumes?.map((v) => v.name)).toEqual(["volume-alice"]);
    expect(decision.create).toEqual([]);
    expect(decision.plan?.skipped).toContainEqual({
      feature: "notebooks",
      reason: expect.objectContaining({ code: "notebooks-unavailable" }),
    });
    expect(decision.warnings).toEqual([
      expect.stringMatching(/notebook sync not injected: ConfigMap graft-notebook-sync-\w+ .*403/),
    ]);
  });

  it("skips with a warning when the folder or one of the container's mounts is where the script is mounted", () => {
    const config = loadWebhookConfig("notebooks: {folder: /graft/notebook-sync/apps}");
    const inFolder = admitted(kubeSpawnerPod(), { ...facts, config });
    expect(container(inFolder.pod, "notebook")?.lifecycle).toBeUndefined();
    expect(inFolder.decision.warnings).toEqual([expect.stringMatching(/within \/graft\/notebook-sync/)]);

    const mounted = kubeSpawnerPod({
      notebook: { volumeMounts: [{ name: "volume-alice", mountPath: "/graft" }] },
    });
    const inMount = admitted(mounted);
    expect(container(inMount.pod, "notebook")?.lifecycle).toBeUndefined();
    expect(inMount.decision.warnings).toEqual([
      expect.stringMatching(/mounts volume "volume-alice" at or around \/graft\/notebook-sync/),
    ]);
  });

  it("changes nothing on a second pass", () => {
    const { pod } = admitted(kubeSpawnerPod());
    expect(admit(podRequest(pod), facts).patch).toEqual([]);
  });

  it("uses the configured repository template and folder", () => {
    const config = loadWebhookConfig(
      "notebooks: {repoTemplate: 'https://git.example/notebooks/{user}.git', folder: /home/jovyan/work/apps}",
    );
    const { pod } = admitted(kubeSpawnerPod(), { ...facts, config });
    expect(container(pod, "notebook")?.lifecycle?.postStart?.exec?.command).toEqual(
      notebookSyncCommand({
        repoUrl: "https://git.example/notebooks/alice.git",
        folder: "/home/jovyan/work/apps",
      }),
    );
  });

  it("falls back to the first app container when none is named notebook", () => {
    const pod = kubeSpawnerPod();
    pod.spec!.containers = [
      { name: "graft-agent", image: "graft" },
      { name: "lab", image: "lab" },
      { name: "proxy", image: "proxy" },
    ];
    const { pod: mutated } = admitted(pod);
    expect(container(mutated, "lab")?.lifecycle?.postStart?.exec?.command).toEqual(ALICE_COMMAND);
    expect(container(mutated, "proxy")?.lifecycle).toBeUndefined();
    expect(container(mutated, "graft-agent")?.lifecycle).toBeUndefined();
  });

  it("keeps a preStop hook when adding postStart", () => {
    const preStop = { exec: { command: ["jupyter", "server", "stop"] } };
    const { pod } = admitted(kubeSpawnerPod({ notebook: { lifecycle: { preStop } } }));
    expect(container(pod, "notebook")?.lifecycle).toEqual({
      preStop,
      postStart: { exec: { command: ALICE_COMMAND } },
    });
  });

  it('applies to any pod annotated notebooks "true", and not to a jupyter pod annotated "false"', () => {
    const generic = kubeSpawnerPod({
      annotations: { "graft.pnda.io/component-type": "generic", "graft.pnda.io/notebooks": "true" },
    });
    expect(container(admitted(generic).pod, "notebook")?.lifecycle?.postStart).toBeDefined();

    const off = kubeSpawnerPod({ annotations: { "graft.pnda.io/notebooks": "false" } });
    const { decision, pod } = admitted(off);
    expect(container(pod, "notebook")?.lifecycle).toBeUndefined();
    expect(decision.plan?.skipped).toContainEqual({
      feature: "notebooks",
      reason: { code: "disabled", message: 'annotation "graft.pnda.io/notebooks" is "false"' },
    });
    expect(decision.warnings).toEqual([]);
  });

  it("passes the configured size and file caps to the hook", () => {
    const config = loadWebhookConfig("notebooks: {maxFileBytes: 1000, maxSyncBytes: 5000, maxFiles: 7}");
    const { pod } = admitted(kubeSpawnerPod(), { ...facts, config });
    expect(container(pod, "notebook")?.lifecycle?.postStart?.exec?.command?.slice(8)).toEqual([
      "1000",
      "5000",
      "7",
    ]);
  });

  it("leaves pods that are not Jupyter alone, silently", () => {
    const pod = kubeSpawnerPod({ annotations: { "graft.pnda.io/component-type": "generic" } });
    const { decision, pod: mutated } = admitted(pod);
    expect(container(mutated, "notebook")?.lifecycle).toBeUndefined();
    expect(decision.warnings).toEqual([]);
  });

  it("takes the user from notebooks-user, then KubeSpawner's annotation, then its label", () => {
    const repoOf = (pod: Pod) =>
      admitted(pod).pod.spec?.containers[0]?.lifecycle?.postStart?.exec?.command?.[4];
    const both = { labels: { "hub.jupyter.org/username": "bob-2esmith" } };
    expect(
      repoOf(
        kubeSpawnerPod({
          ...both,
          annotations: { "graft.pnda.io/notebooks-user": "carol", "hub.jupyter.org/username": "bob.smith" },
        }),
      ),
    ).toMatch(/\/jupyter-carol$/);
    expect(
      repoOf(kubeSpawnerPod({ ...both, annotations: { "hub.jupyter.org/username": "bob.smith" } })),
    ).toMatch(/\/jupyter-bob\.smith$/);
    const labelOnly = kubeSpawnerPod(both);
    delete labelOnly.metadata?.annotations?.["hub.jupyter.org/username"];
    expect(repoOf(labelOnly)).toMatch(/\/jupyter-bob-2esmith$/);
  });

  it("skips with a warning when the pod names no user", () => {
    const pod = kubeSpawnerPod({ annotations: { "graft.pnda.io/notebooks": "true" } });
    delete pod.metadata?.annotations?.["hub.jupyter.org/username"];
    delete pod.metadata?.labels?.["hub.jupyter.org/username"];
    const { decision, pod: mutated } = admitted(pod);
    expect(container(mutated, "notebook")?.lifecycle).toBeUndefined();
    expect(decision.warnings).toEqual([
      expect.stringMatching(/notebook sync not injected: .*notebooks-user/),
    ]);
  });

  const HOSTILE = [
    "$(touch /tmp/pwned)",
    "a;b",
    "../x",
    "al'ice",
    'al"ice',
    "alice\nbob",
    "`id`",
    "Alice",
    "a..b",
  ];

  it.each(HOSTILE)("admits the pod without a hook, warning, when KubeSpawner's username is %j", (user) => {
    const pod = kubeSpawnerPod({ annotations: { "hub.jupyter.org/username": user } });
    const { decision, pod: mutated } = admitted(pod);
    expect(container(mutated, "notebook")?.lifecycle).toBeUndefined();
    expect(decision.warnings).toEqual([
      expect.stringContaining(
        `annotation hub.jupyter.org/username is ${JSON.stringify(user)}, not a JupyterHub username`,
      ),
    ]);
    expect(JSON.stringify(decision.patch)).not.toContain(JSON.stringify(user).slice(1, -1));
  });

  it.each(HOSTILE)("never puts notebooks-user %j into a hook: denied or skipped", (user) => {
    const decision = admit(
      podRequest(kubeSpawnerPod({ annotations: { "graft.pnda.io/notebooks-user": user } })),
      facts,
    );
    expect(decision.patch.some((op) => JSON.stringify(op).includes("postStart"))).toBe(false);
    if (decision.allowed) expect(decision.warnings.join()).toMatch(/notebook sync not injected/);
    else expect(decision.message).toMatch(/graft\.pnda\.io\/notebooks-user/);
  });

  it("skips with a warning when the configured folder is not a plain absolute path", () => {
    const config = loadWebhookConfig("notebooks: {folder: /home/jovyan/../../etc}");
    const { decision, pod } = admitted(kubeSpawnerPod(), { ...facts, config });
    expect(container(pod, "notebook")?.lifecycle).toBeUndefined();
    expect(decision.warnings).toEqual([
      expect.stringMatching(/notebooks\.folder is "\/home\/jovyan\/\.\.\/\.\.\/etc"/),
    ]);
  });

  describe("when the notebook container has a postStart hook of its own", () => {
    const ownHook = { exec: { command: ["sh", "-c", "rm -rf ~/apps-notebooks && git clone http://git/x"] } };
    const withOwnHook = () => kubeSpawnerPod({ notebook: { lifecycle: { postStart: ownHook } } });

    it("keeps it and syncs in an init container with the notebook's image, user, volumes and HOME, saying so", () => {
      const { decision, pod } = admitted(withOwnHook());
      expect(container(pod, "notebook")?.lifecycle).toEqual({ postStart: ownHook });
      expect(pod.spec?.initContainers).toEqual([
        { name: "block-cloud-metadata", image: "jupyterhub/k8s-network-tools" },
        {
          name: SYNC_INIT_CONTAINER,
          image: "quay.io/jupyter/base-notebook:2024-05-27",
          imagePullPolicy: "IfNotPresent",
          command: ALICE_INIT_COMMAND,
          env: [{ name: "HOME", value: "/home/jovyan" }],
          volumeMounts: [
            { name: "volume-alice", mountPath: "/home/jovyan" },
            { name: "graft-notebook-sync", mountPath: "/graft/notebook-sync", readOnly: true },
          ],
          securityContext: { runAsUser: 1000, runAsGroup: 100 },
          resources: { requests: { cpu: "100m", memory: "1Gi" } },
        },
      ]);
      expect(decision.warnings).toEqual([
        expect.stringMatching(
          /container "notebook" has a postStart hook of its own, which graft keeps: notebooks are synced by init container "graft-notebook-sync"/,
        ),
      ]);
    });

    it("changes nothing on a second pass", () => {
      const { pod } = admitted(withOwnHook());
      expect(admit(podRequest(pod), facts).patch).toEqual([]);
    });

    it("skips with a warning when the folder is on no volume an init container could share", () => {
      const pod = withOwnHook();
      pod.spec!.containers[0]!.volumeMounts = [{ name: "data", mountPath: "/data" }];
      const { decision, pod: mutated } = admitted(pod);
      expect(container(mutated, "notebook")?.lifecycle).toEqual({ postStart: ownHook });
      expect(mutated.spec?.initContainers?.map((c) => c.name)).toEqual(["block-cloud-metadata"]);
      expect(decision.warnings).toEqual([
        expect.stringMatching(/is on no volume an init container could sync/),
      ]);
    });
  });

  it("recognises its own hook, so a pod it already injected is not mistaken for one with its own", () => {
    expect(isNotebookSyncCommand(ALICE_COMMAND)).toBe(true);
    expect(isNotebookSyncCommand(["sh", "-c", "git clone x"])).toBe(false);
    expect(isNotebookSyncCommand(undefined)).toBe(false);
  });
});
