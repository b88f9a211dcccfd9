// charts/graft against manifests/, with the real helm (built from helm.sh/helm/v3 by
// test/cluster/tools.sh) and the real kustomize (kubectl 1.33 of test/cluster): the chart's
// render is compared object by object with the kustomizations it stands for, and its
// non-default values with what webhook/ itself renders. No cluster: `helm template` and
// `kubectl kustomize` only (install, upgrade and uninstall: test/e2e/helm-install.e2e.test.ts).
import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { createAuthority } from "../../certs/authority.js";
import { renderMutatingWebhookConfiguration } from "../../webhook/install/webhook-configuration.js";
import { renderWritePolicy } from "../../webhook/install/write-policy.js";
import {
  chartDir,
  HELM_LABELS,
  helm,
  helmBinary,
  kustomize,
  type Manifest,
  template,
} from "../helm/chart.js";

const key = (o: Manifest) => `${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`;

/** One side's objects, normalised to what the two ways of installing legitimately differ in. */
function normalise(objects: Manifest[]): Map<string, Manifest> {
  const out = new Map<string, Manifest>();
  for (const original of objects) {
    const o = structuredClone(original);
    const labels = o.metadata.labels;
    if (labels) for (const label of HELM_LABELS) delete labels[label];
    // kustomize names the config graft-config-<hash>; the chart rolls the Deployment with a checksum.
    if (o.kind === "ConfigMap" && o.metadata.name.startsWith("graft-config")) {
      o.metadata.name = "graft-config";
      const data = o.data as Record<string, string>;
      data["config.yaml"] = parseYaml(data["config.yaml"] ?? "");
    }
    if (o.kind === "Deployment") {
      const pod = (
        o.spec as { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } }
      ).template;
      delete pod.metadata.annotations?.["checksum/config"];
      for (const volume of pod.spec.volumes ?? []) {
        if (volume.configMap?.name.startsWith("graft-config")) volume.configMap.name = "graft-config";
      }
    }
    if (o.kind === "ConfigMap" && o.metadata.name === "graft-dashboard") {
      const data = o.data as Record<string, string>;
      data["graft.json"] = JSON.parse(data["graft.json"] ?? "null");
    }
    out.set(key(o), o);
  }
  return out;
}

type PodSpec = { volumes?: { configMap?: { name: string }; secret?: { secretName: string } }[] };

function webhooks(o: Manifest | undefined) {
  return (
    (o as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] } | undefined)?.webhooks ?? []
  );
}

function withoutCaBundle(o: Manifest): Manifest {
  const copy = structuredClone(o);
  for (const webhook of webhooks(copy)) delete webhook.clientConfig.caBundle;
  return copy;
}

/** Expects the two renders to hold the same objects, naming every object that differs. */
function expectSameObjects(chart: Manifest[], kustomized: Manifest[]) {
  const a = normalise(chart);
  const b = normalise(kustomized);
  expect([...a.keys()].sort(), "objects rendered by the chart vs kustomize").toEqual([...b.keys()].sort());
  for (const [name, object] of a) expect(object, name).toEqual(b.get(name));
}

const find = (objects: Manifest[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the render`);
  return found;
};

beforeAll(async () => {
  await helmBinary(); // builds it on a machine that has not yet (minutes, once per key)
}, 1_800_000);

describe("helm lint", () => {
  it("passes for the chart with its defaults (strict) and with every TLS mode", async () => {
    const strict = await helm(["lint", "--strict", chartDir]);
    expect(strict.code, strict.stdout + strict.stderr).toBe(0);
    for (const mode of ["certManager", "provided"]) {
      const ran = await helm(["lint", chartDir, "--set", `tls.mode=${mode}`]);
      expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    }
  });
});

describe("helm template renders the objects of manifests/", () => {
  it("cert-manager mode with monitoring and console = overlays/cert-manager + monitoring + console + monitoring-labels", async () => {
    const chart = await template({
      namespace: { create: true },
      tls: { mode: "certManager" },
      monitoring: { serviceMonitor: true, podMonitor: true, prometheusRule: true, dashboard: true },
      console: { enabled: true },
    });
    expectSameObjects(chart, await kustomize("test/helm/kustomize/all"));
  });

  it("provided mode = overlays/provided-certs, with the given CA in every webhook's caBundle", async () => {
    const ca = createAuthority({ commonName: "graft-test-ca", now: new Date() }).cert;
    const chart = await template({
      namespace: { create: true },
      tls: { mode: "provided", provided: { caBundle: ca } },
    });
    const kustomized = await kustomize("manifests/overlays/provided-certs");
    const configuration = find(chart, "MutatingWebhookConfiguration", "graft");
    expect(
      webhooks(configuration).map((w) => Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString()),
    ).toEqual([ca, ca, ca]);
    expectSameObjects(
      chart.map((o) => (o === configuration ? withoutCaBundle(o) : o)),
      kustomized,
    );
  });

  it("self-managed mode = overlays/provided-certs plus Secret graft-webhook-tls: a CA and a certificate for the Service it signed", async () => {
    const chart = await template({ namespace: { create: true } });
    const secret = find(chart, "Secret", "graft-webhook-tls");
    const configuration = find(chart, "MutatingWebhookConfiguration", "graft");
    expectSameObjects(
      chart.filter((o) => o !== secret).map((o) => (o === configuration ? withoutCaBundle(o) : o)),
      await kustomize("manifests/overlays/provided-certs"),
    );
    expect(secret.type).toBe("kubernetes.io/tls");
    const data = secret.data as Record<string, string>;
    const pem = (k: string) => Buffer.from(data[k] ?? "", "base64").toString();
    const ca = new X509Certificate(pem("ca.crt"));
    const serving = new X509Certificate(pem("tls.crt"));
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkHost("graft-webhook.graft.svc")).toBe("graft-webhook.graft.svc");
    expect(pem("tls.key")).toContain("PRIVATE KEY");
    for (const webhook of webhooks(configuration)) {
      expect(Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString()).toBe(pem("ca.crt"));
    }
  });
});

describe("helm template with other values", () => {
  const namespace = "platform-graft";
  const excluded = ["legacy", "batch-jobs"];
  let objects: Manifest[];
  beforeAll(async () => {
    objects = await template(
      {
        tls: { mode: "certManager" },
        config: { excludedNamespaces: excluded },
        webhook: { servicePort: 9443, port: 443, failurePolicy: "Ignore", timeoutSeconds: 10 },
        replicas: 3,
        image: { repository: "registry.example.com/graft", tag: "0.1.0-rc1" },
        imagePullSecrets: [{ name: "regcred" }],
        monitoring: { serviceMonitor: true, labels: { release: "prom" } },
      },
      namespace,
    );
  });

  it("the webhook configuration is what webhook/install/webhook-configuration.ts renders for that namespace, port and exclusions", () => {
    const expected = renderMutatingWebhookConfiguration({
      target: { service: { namespace, name: "graft-webhook", port: 9443 } },
      graftNamespace: namespace,
      excludedNamespaces: excluded,
      timeoutSeconds: 10,
      annotations: { "cert-manager.io/inject-ca-from": `${namespace}/graft-webhook` },
    });
    for (const webhook of expected.webhooks ?? []) {
      if (webhook.failurePolicy === "Fail") webhook.failurePolicy = "Ignore"; // webhook.failurePolicy
    }
    const [rendered] = [...normalise([find(objects, "MutatingWebhookConfiguration", "graft")]).values()];
    expect(rendered).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it("the write policy is what webhook/install/write-policy.ts renders for that namespace and exclusions", () => {
    const { policy, binding } = renderWritePolicy({
      graftNamespace: namespace,
      excludedNamespaces: excluded,
    });
    const rendered = normalise(objects);
    expect(rendered.get("ValidatingAdmissionPolicy -/graft-writes")).toEqual(policy);
    expect(rendered.get("ValidatingAdmissionPolicyBinding -/graft-writes")).toEqual(binding);
  });

  it("every namespaced object, the config, the certificate's names and the ServiceMonitor follow the namespace", () => {
    for (const o of objects) {
      if (["ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration"].includes(o.kind)) continue;
      if (o.kind.startsWith("ValidatingAdmissionPolicy")) continue;
      expect(o.metadata.namespace, key(o)).toBe(namespace);
    }
    const config = parseYaml(
      (find(objects, "ConfigMap", "graft-config").data as Record<string, string>)["config.yaml"] ?? "",
    );
    expect(config).toMatchObject({ namespace, excludedNamespaces: excluded });
    expect((find(objects, "Certificate", "graft-webhook").spec as { dnsNames: string[] }).dnsNames).toEqual([
      `graft-webhook.${namespace}.svc`,
      `graft-webhook.${namespace}.svc.cluster.local`,
    ]);
    const monitor = find(objects, "ServiceMonitor", "graft-webhook");
    expect(monitor.metadata.labels?.release).toBe("prom");
    expect(JSON.stringify(monitor.spec)).toContain(`graft-webhook.${namespace}.svc`);
  });

  it("port 443 in the pod: the safe sysctl lets the non-root server bind it; image, pull secret, replicas", () => {
    const deployment = find(objects, "Deployment", "graft-webhook");
    const spec = deployment.spec as {
      replicas: number;
      template: {
        spec: {
          securityContext: { sysctls?: { name: string; value: string }[] };
          imagePullSecrets?: { name: string }[];
          containers: { image: string; args: string[]; ports: { containerPort: number }[] }[];
        };
      };
    };
    const pod = spec.template.spec;
    expect(spec.replicas).toBe(3);
    expect(pod.securityContext.sysctls).toEqual([
      { name: "net.ipv4.ip_unprivileged_port_start", value: "443" },
    ]);
    expect(pod.imagePullSecrets).toEqual([{ name: "regcred" }]);
    expect(pod.containers[0]?.image).toBe("registry.example.com/graft:0.1.0-rc1");
    expect(pod.containers[0]?.args).toContain("--port=443");
    expect(pod.containers[0]?.ports[0]?.containerPort).toBe(443);
    const service = find(objects, "Service", "graft-webhook").spec as { ports: { port: number }[] };
    expect(service.ports.map((p) => p.port)).toEqual([9443, 443]);
  });

  it("one replica gets no PodDisruptionBudget (minAvailable 1 would block every drain)", async () => {
    const one = await template({ replicas: 1 });
    expect(one.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });
});

describe("values.schema.json rejects a wrong value with a message naming it", () => {
  const cases: [string, object, RegExp][] = [
    ["an unknown TLS mode", { tls: { mode: "letsencrypt" } }, /tls\.mode|\/tls\/mode/],
    ["a typo in a key", { replica: 3 }, /replica/],
    ["zero replicas", { replicas: 0 }, /replicas/],
    ["a port out of range", { webhook: { port: 70000 } }, /webhook.*port/],
    ["a failurePolicy Kubernetes does not know", { webhook: { failurePolicy: "Deny" } }, /failurePolicy/],
    ["an unknown graft config key", { config: { nativeSidecar: "auto" } }, /nativeSidecar/],
    ["a bad agent quantity", { config: { agent: { resources: { limits: { memory: "lots" } } } } }, /memory/],
    [
      "an invalid excluded namespace",
      { config: { excludedNamespaces: ["Not_A_Name"] } },
      /excludedNamespaces/,
    ],
    ["a pull secret without a name", { imagePullSecrets: ["regcred"] }, /imagePullSecrets/],
    ["a number as a platform variable", { platform: { zookeeper_port: 2181 } }, /zookeeper_port/],
    ["a label value with a space", { monitoring: { labels: { release: "kube prometheus" } } }, /release/],
    [
      "a caBundle that is not PEM",
      { tls: { mode: "provided", provided: { caBundle: "not a cert" } } },
      /caBundle/,
    ],
    ["a namespace that is not a DNS label", { namespace: { name: "Graft" } }, /namespace/],
  ];
  for (const [what, values, message] of cases) {
    it(`refuses ${what}`, async () => {
      const ran = await helm(["template", "graft", chartDir, "--values", "-"], {
        input: JSON.stringify(values),
      });
      expect(ran.code, ran.stdout).not.toBe(0);
      expect(ran.stderr).toMatch(/values don't meet the specifications of the schema/);
      expect(ran.stderr).toMatch(message);
    });
  }

  it("refuses hostile input within a bound: deep nesting and a huge value", async () => {
    let deep: unknown = "x";
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const started = Date.now();
    const nested = await helm(["template", "graft", chartDir, "--values", "-"], {
      input: JSON.stringify({ config: deep }),
    });
    expect(nested.code).not.toBe(0);
    const huge = await helm(["template", "graft", chartDir, "--values", "-"], {
      input: JSON.stringify({ platform: { big: 7 }, image: { tag: "x".repeat(1_000_000) } }),
    });
    expect(huge.code).not.toBe(0);
    expect(huge.stderr).toMatch(/tag|big/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
