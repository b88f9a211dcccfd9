// charts/graft for the tests: the real helm (test/cluster/tools.sh builds it from helm.sh/helm/v3),
// the real kustomize (the control plane's kubectl 1.33), and the chart's values schema, built from
// the webhook's own config schema (webhook/model/config.ts) so the two cannot disagree.
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { WebhookConfigSchema } from "../../webhook/model/config-schema.js";
import { type Ran, run } from "../services/spawn.js";

export const repo = fileURLToPath(new URL("../../", import.meta.url));
export const chartDir = `${repo}charts/graft`;
export const schemaPath = `${chartDir}/values.schema.json`;
const toolsScript = `${repo}test/cluster/tools.sh`;
const clusterScript = `${repo}test/cluster/cluster.sh`;

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
};

let helmPath: Promise<string> | undefined;

/** The helm binary, built (once per key, cached in ~/.cache/graft/tools) on first use. */
export function helmBinary(): Promise<string> {
  helmPath ??= run("bash", [toolsScript, "bin", "helm"]).then((ran) => {
    if (ran.code !== 0) throw new Error(`tools.sh bin helm failed (exit ${ran.code}):\n${ran.stderr}`);
    return `${ran.stdout.trim()}/helm`;
  });
  return helmPath;
}

/** helm with its own state (config, cache, data) in `home`, never the user's. */
export async function helm(args: string[], options: { home?: string; input?: string } = {}): Promise<Ran> {
  const home = options.home ?? path.join(os.tmpdir(), "graft-helm-home");
  return run(await helmBinary(), args, {
    env: {
      HELM_CONFIG_HOME: `${home}/config`,
      HELM_CACHE_HOME: `${home}/cache`,
      HELM_DATA_HOME: `${home}/data`,
    },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

export function parseManifests(text: string): Manifest[] {
  // YAML 1.1, as Kubernetes reads it (sigs.k8s.io/yaml): defaultMode: 0440 is octal.
  return parseAllDocuments(text, { version: "1.1" })
    .map((document) => document.toJS() as Manifest | null)
    .filter((object): object is Manifest => object !== null && typeof object === "object");
}

/** `helm template` of charts/graft with `--set`-free values (a YAML document on stdin). */
export async function template(values: object = {}, namespace = "graft"): Promise<Manifest[]> {
  const ran = await helm(["template", "graft", chartDir, "--namespace", namespace, "--values", "-"], {
    input: JSON.stringify(values),
  });
  if (ran.code !== 0) throw new Error(`helm template failed (exit ${ran.code}):\n${ran.stderr}`);
  return parseManifests(ran.stdout);
}

/** `kubectl kustomize DIR` with the control plane's kubectl (no cluster needed). */
export async function kustomize(dir: string): Promise<Manifest[]> {
  const ran = await run("bash", [clusterScript, "kubectl", "kustomize", dir], { cwd: repo });
  if (ran.code !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${ran.code}):\n${ran.stderr}`);
  return parseManifests(ran.stdout);
}

/** Labels only Helm adds (the release's); manifests/ has none of them. */
export const HELM_LABELS = [
  "app.kubernetes.io/instance",
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/version",
  "helm.sh/chart",
];

// --- values.schema.json -------------------------------------------------------------------------

type Schema = Record<string, unknown>;

/** A plain JSON copy (TypeBox schemas carry symbols JSON drops). */
const plain = (schema: unknown): Schema => JSON.parse(JSON.stringify(schema)) as Schema;

const object = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...extra,
});
const string = (extra: Schema = {}): Schema => ({ type: "string", ...extra });
const boolean: Schema = { type: "boolean" };
const integer = (minimum: number, maximum: number, description: string): Schema => ({
  type: "integer",
  minimum,
  maximum,
  description,
});
const stringMap = (description: string): Schema => ({
  type: "object",
  additionalProperties: { type: "string" },
  description,
});
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$";
const DURATION = {
  pattern: "^([0-9]+(\\.[0-9]+)?(h|m|s))+$",
  description: 'a Go duration such as "2160h" or "90m"',
};

/**
 * Without `required`: the webhook's schema lists every key as required because ajv fills its
 * defaults first (useDefaults); in the chart's values every key of config is optional.
 */
function optional(schema: Schema): Schema {
  const { required: _required, ...rest } = schema;
  for (const key of ["properties", "items"] as const) {
    const inner = rest[key];
    if (key === "items" && inner && typeof inner === "object") rest[key] = optional(inner as Schema);
    if (key === "properties" && inner && typeof inner === "object") {
      rest[key] = Object.fromEntries(
        Object.entries(inner as Record<string, Schema>).map(([name, value]) => [name, optional(value)]),
      );
    }
  }
  return rest;
}

/** values.schema.json: the chart's own values, and `config` from WebhookConfigSchema less `namespace`. */
export function chartValuesSchema(): Schema {
  const webhookConfig = optional(plain(WebhookConfigSchema));
  const configProperties = { ...(webhookConfig.properties as Record<string, Schema>) };
  delete configProperties.namespace;
  const config = {
    ...webhookConfig,
    properties: configProperties,
    description: "graft webhook --config (webhook/model/config.ts), less namespace (namespace.name)",
  };
  const resources = plain(
    (WebhookConfigSchema.properties.agent.properties.resources as unknown as { properties: unknown })
      .properties,
  );
  const resourceList = (name: string) => ({ ...(resources[name] as Schema), default: undefined });
  const containerResources = object({ requests: resourceList("requests"), limits: resourceList("limits") });
  return plain({
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "graft chart values",
    ...object({
      namespace: object({
        name: string({
          pattern: `^$|${DNS_LABEL}`,
          description: "a namespace name, or empty for the release's",
        }),
        create: boolean,
      }),
      image: object({
        repository: string({
          minLength: 1,
          pattern: "^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*$",
          description: "an image name without tag",
        }),
        tag: string({
          pattern: "^([\\w][\\w.-]{0,127})?$",
          description: "an image tag, or empty for the appVersion",
        }),
        digest: string({
          pattern: "^(sha256:[a-f0-9]{64})?$",
          description: "sha256:<64 hex digits>, or empty",
        }),
        pullPolicy: { type: "string", enum: ["Always", "IfNotPresent", "Never"] },
      }),
      imagePullSecrets: {
        type: "array",
        items: object(
          { name: string({ pattern: DNS_SUBDOMAIN, description: "a Secret name" }) },
          { required: ["name"] },
        ),
      },
      replicas: integer(1, 100, "webhook replicas, at least 1 (2 or more for a PodDisruptionBudget)"),
      resources: containerResources,
      webhook: object({
        port: integer(1, 65535, "the container's HTTPS port"),
        servicePort: integer(1, 65535, "the Service port the API server dials"),
        failurePolicy: { type: "string", enum: ["Fail", "Ignore"] },
        timeoutSeconds: integer(1, 30, "whole seconds, 1 to 30 (the API server's limit)"),
        extraArgs: { type: "array", items: string({ pattern: "^--[a-z]", description: "a --flag" }) },
        podAnnotations: stringMap("annotation values are strings"),
        nodeSelector: stringMap("label values are strings"),
        tolerations: { type: "array", items: { type: "object" } },
        priorityClassName: string(),
      }),
      tls: object({
        mode: { type: "string", enum: ["certManager", "selfManaged", "provided"] },
        certManager: object({
          caDuration: string(DURATION),
          duration: string(DURATION),
          renewBefore: string(DURATION),
        }),
        selfManaged: object({
          days: integer(1, 3650, "whole days the serving certificate is valid (the CA twice that)"),
          renew: boolean,
        }),
        provided: object({
          secretName: string({ pattern: DNS_SUBDOMAIN, description: "a Secret name" }),
          caBundle: string({
            pattern: "^(\\s*-----BEGIN CERTIFICATE-----[\\s\\S]*-----END CERTIFICATE-----\\s*)?$",
            description: "PEM certificates, or empty for the Secret's ca.crt",
          }),
        }),
      }),
      config,
      platform: {
        type: "object",
        propertyNames: { pattern: "^[-._a-zA-Z0-9]{1,253}$" },
        additionalProperties: { type: "string" },
        description: "ConfigMap keys and string values (quote numbers)",
      },
      monitoring: object({
        serviceMonitor: boolean,
        podMonitor: boolean,
        prometheusRule: boolean,
        dashboard: boolean,
        labels: {
          type: "object",
          propertyNames: { pattern: "^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$" },
          additionalProperties: {
            type: "string",
            pattern: "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$",
            description: "a label value",
          },
        },
        agentNetworkPolicy: object({
          namespaces: {
            type: "array",
            items: string({ pattern: DNS_LABEL, description: "a namespace name" }),
            maxItems: 1000,
          },
          isolated: boolean,
          prometheus: object({
            namespace: string({ pattern: DNS_LABEL, description: "a namespace name" }),
            podLabels: {
              type: "object",
              propertyNames: {
                pattern: "^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
              },
              additionalProperties: {
                type: "string",
                pattern: "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$",
                description: "a label value",
              },
            },
          }),
        }),
      }),
      console: object({
        enabled: boolean,
        prometheusUrl: string({ pattern: "^https?://[^\\s]+$", description: "Prometheus' http(s) URL" }),
        resources: containerResources,
      }),
    }),
  });
}

export async function committedSchema(): Promise<Schema> {
  return JSON.parse(await readFile(schemaPath, "utf8")) as Schema;
}
