import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { admissionReview, pod } from "../testdata/review.js";
import { type InjectIO, run } from "./cli.js";

const MANIFESTS = `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        graft.pnda.io/checks: '[{name: api, type: http, url: "http://127.0.0.1:8080/healthz"}]'
    spec:
      containers:
        - name: web
          image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  annotations:
    graft.pnda.io/checks: '[{name: dns, type: dns, hostname: kubernetes.default}]'
spec:
  containers:
    - {name: shell, image: busybox}
---
# kept as written
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports: [{port: 80}]   # http
`;

function fakeIO(files: Record<string, string>, stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const io: InjectIO = {
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    readStdin: async () => stdin,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("graft inject -f", () => {
  it("injects the Deployment's template and the Pod, and passes the Service through as written", async () => {
    const { io, stdout, stderr } = fakeIO({ "app.yaml": MANIFESTS });
    expect(await run(["-f", "app.yaml", "--assume-opted-in"], io)).toBe(0);
    expect(stderr()).toBe("");
    const documents = parseAllDocuments(stdout()).map((d) => d.toJS());
    expect(documents.map((d) => d.kind)).toEqual(["Deployment", "Pod", "Service"]);

    const [deployment, pod] = documents;
    const agent = deployment.spec.template.spec.initContainers[0];
    expect(agent.name).toBe("graft-agent");
    expect(JSON.parse(agent.env[0].value)).toEqual([
      { name: "api", type: "http", url: "http://127.0.0.1:8080/healthz", source: "api" },
    ]);
    expect(deployment.spec.template.spec.containers).toEqual([{ name: "web", image: "nginx:1.27" }]);
    expect(pod.spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["graft-agent"]);
    expect(stdout()).toContain("# kept as written");
    expect(stdout()).toContain("# http");
  });

  it("gives a Pod without checks no agent, and says why on stderr", async () => {
    const plain =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: web, image: nginx}]}\n";
    const { io, stdout, stderr } = fakeIO({}, plain);
    expect(await run(["-f", "-", "--assume-opted-in"], io)).toBe(0);
    expect(stdout()).not.toContain("graft-agent");
    expect(stderr()).toContain("graft-agent not injected: no checks");
  });

  it("reads stdin and leaves a pod labelled disabled untouched", async () => {
    const disabled =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {graft.pnda.io/inject: disabled}}\nspec: {containers: [{name: c, image: i}]}\n";
    const { io, stdout } = fakeIO({}, disabled);
    expect(await run(["-f", "-", "--assume-opted-in"], io)).toBe(0);
    expect(parseYaml(stdout())).toEqual(parseYaml(disabled));
  });

  it("renders a regular container with --native-sidecars false", async () => {
    const { io, stdout } = fakeIO({ "app.yaml": MANIFESTS });
    expect(await run(["-f", "app.yaml", "--assume-opted-in", "--native-sidecars", "false"], io)).toBe(0);
    const pod = parseAllDocuments(stdout())[1]!.toJS();
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(["shell", "graft-agent"]);
    expect(pod.spec.initContainers).toBeUndefined();
  });

  it("fails with the annotation's error and prints nothing", async () => {
    const bad = MANIFESTS.replace('type: http, url: "http://127.0.0.1:8080/healthz"', "type: http");
    const { io, stdout, stderr } = fakeIO({ "app.yaml": bad });
    expect(await run(["-f", "app.yaml", "--assume-opted-in"], io)).toBe(1);
    expect(stdout()).toBe("");
    expect(stderr()).toBe(
      'error: Deployment "web": annotation "graft.pnda.io/checks": check "api": missing field "url"\n',
    );
  });

  it("uses the config file and says which key is wrong", async () => {
    const { io, stdout } = fakeIO({
      "app.yaml": MANIFESTS,
      "c.yaml": "agent: {image: registry.local/graft:dev}",
    });
    expect(await run(["-f", "app.yaml", "--assume-opted-in", "--config", "c.yaml"], io)).toBe(0);
    expect(stdout()).toContain("image: registry.local/graft:dev");

    const broken = fakeIO({ "app.yaml": MANIFESTS, "c.yaml": "agent: {imag: x}" });
    expect(await run(["-f", "app.yaml", "--assume-opted-in", "--config", "c.yaml"], broken.io)).toBe(1);
    expect(broken.stderr()).toContain('unknown field "agent.imag"');
  });

  it("injects the items of a List given as JSON, as kubectl get -o json prints it", async () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: "a",
            annotations: { "graft.pnda.io/checks": "[{name: t, type: tcp, host: t, port: 1}]" },
          },
          spec: { containers: [{ name: "c", image: "i" }] },
        },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" }, data: { k: "v" } },
      ],
    };
    const { io, stdout } = fakeIO({ "list.json": JSON.stringify(list) });
    expect(await run(["-f", "list.json", "--assume-opted-in"], io)).toBe(0);
    const [output] = parseAllDocuments(stdout()).map((d) => d.toJS());
    expect(output.items[0].spec.initContainers[0].name).toBe("graft-agent");
    expect(output.items[1]).toEqual(list.items[1]);
  });

  it("names the document that is not valid YAML", async () => {
    const { io, stderr } = fakeIO({ "bad.yaml": "kind: Pod\n---\nkind: [unclosed\n" });
    expect(await run(["-f", "bad.yaml", "--assume-opted-in"], io)).toBe(1);
    expect(stderr()).toMatch(/^error: document 2: not valid YAML or JSON: /m);
  });

  it("injects nothing into a namespace the input does not hold, and says why, unless --assume-opted-in", async () => {
    const { io, stdout, stderr } = fakeIO({ "app.yaml": MANIFESTS });
    expect(await run(["-f", "app.yaml"], io)).toBe(0);
    expect(parseAllDocuments(stdout()).map((d) => d.toJS())).toEqual(
      parseAllDocuments(MANIFESTS).map((d) => d.toJS()),
    );
    expect(stderr()).toBe(
      [
        'skipped: document 1: Deployment "web" in namespace "shop": not-opted-in: the pod has no graft.pnda.io/inject label and the input holds no Namespace "shop": add that Namespace with graft.pnda.io/inject=enabled as in the cluster, or pass --assume-opted-in',
        'skipped: document 2: Pod "debug" in namespace "default": not-opted-in: the pod has no graft.pnda.io/inject label and the input holds no Namespace "default": add that Namespace with graft.pnda.io/inject=enabled as in the cluster, or pass --assume-opted-in',
        "",
      ].join("\n"),
    );
  });

  it("lets a Namespace document in the input decide for its objects, even with --assume-opted-in", async () => {
    const namespace = (labels: unknown) =>
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: ${JSON.stringify(labels)}}\n---\n`;
    const labelled = fakeIO({ "app.yaml": namespace({ "graft.pnda.io/inject": "enabled" }) + MANIFESTS });
    expect(await run(["-f", "app.yaml"], labelled.io)).toBe(0);
    const [, deployment, pod] = parseAllDocuments(labelled.stdout()).map((d) => d.toJS());
    expect(deployment.spec.template.spec.initContainers[0].name).toBe("graft-agent");
    expect(pod.spec.initContainers).toBeUndefined();
    expect(labelled.stderr()).toMatch(
      /^skipped: document 3: Pod "debug" in namespace "default": not-opted-in: /,
    );

    for (const labels of [
      {},
      { "graft.pnda.io/inject": "disabled" },
      { "graft.pnda.io/inject": 1 },
      null,
      [1, 2],
    ]) {
      const other = fakeIO({ "app.yaml": namespace(labels) + MANIFESTS });
      expect(await run(["-f", "app.yaml", "--assume-opted-in"], other.io)).toBe(0);
      expect(parseAllDocuments(other.stdout())[1]!.toJS().spec.template.spec.initContainers).toBeUndefined();
      expect(other.stderr()).toContain(
        'skipped: document 2: Deployment "web" in namespace "shop": not-opted-in: neither the pod nor namespace "shop" has graft.pnda.io/inject=enabled\n',
      );
    }
  });

  it("reads Namespaces inside a List, and survives Namespace documents that are garbage", async () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "shop", labels: { "graft.pnda.io/inject": "enabled" } },
        },
        { kind: "Namespace", metadata: { name: 5 } },
        { kind: "Namespace", metadata: "shop" },
        { kind: "Namespace" },
        "Namespace",
      ],
    };
    const { io, stdout } = fakeIO({ "app.yaml": `${JSON.stringify(list)}\n---\n${MANIFESTS}` });
    expect(await run(["-f", "app.yaml"], io)).toBe(0);
    const deployment = parseAllDocuments(stdout())[1]!.toJS();
    expect(deployment.spec.template.spec.initContainers[0].name).toBe("graft-agent");
  });

  it("needs exactly one input", async () => {
    const { io, stderr } = fakeIO({});
    expect(await run([], io)).toBe(2);
    expect(stderr()).toContain("give exactly one of -f and --admission-review");
  });
});

describe("graft inject --admission-review", () => {
  const web = (annotations?: Record<string, string>) =>
    admissionReview({
      uid: "0df28fbd-5f5f-4f3e-9a1b-2c3d4e5f6a7b",
      namespace: "shop",
      object: pod({
        generateName: "web-",
        containers: [{ name: "web", image: "nginx" }],
        ...(annotations && { annotations }),
      }),
    });
  const review = web();

  it("prints the reply the webhook would send: the uid and a base64 JSONPatch", async () => {
    const { io, stdout } = fakeIO({ "review.json": JSON.stringify(review) });
    expect(await run(["--admission-review", "review.json"], io)).toBe(0);
    const reply = JSON.parse(stdout());
    expect(reply).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true, patchType: "JSONPatch" },
    });
    const patch = JSON.parse(Buffer.from(reply.response.patch, "base64").toString("utf8"));
    expect(patch).toContainEqual(expect.objectContaining({ op: "add", path: "/spec/initContainers" }));
  });

  it("prints a denial with the message for invalid annotations", async () => {
    const invalid = web({ "graft.pnda.io/health": "yes" });
    const { io, stdout } = fakeIO({ "review.yaml": JSON.stringify(invalid) });
    expect(await run(["--admission-review", "review.yaml"], io)).toBe(0);
    expect(parseYaml(stdout()).response).toEqual({
      uid: review.request.uid,
      allowed: false,
      status: {
        code: 400,
        message:
          'graft cannot admit pod "web-*" in namespace "shop": annotation "graft.pnda.io/health" is "yes": expected "true" or "false"',
      },
    });
  });

  it("rejects a review of another version with the fix", async () => {
    const { io, stderr } = fakeIO({
      "r.json": JSON.stringify({ ...review, apiVersion: "admission.k8s.io/v1beta1" }),
    });
    expect(await run(["--admission-review", "r.json"], io)).toBe(1);
    expect(stderr()).toContain('expected apiVersion "admission.k8s.io/v1", got "admission.k8s.io/v1beta1"');
  });
});
