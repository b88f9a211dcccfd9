/**
 * The MutatingWebhookConfiguration that sends pods and workloads to graft: rendered here for the
 * e2e tests (registered by URL) and for manifests/base (registered by Service), so the two
 * cannot drift apart (webhook-configuration.test.ts compares the manifest with this render).
 */
import type {
  V1LabelSelectorRequirement,
  V1MutatingWebhook,
  V1MutatingWebhookConfiguration,
} from "@kubernetes/client-node";
import {
  ALWAYS_EXCLUDED_NAMESPACES,
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECT,
  PREFIX,
} from "../../core/annotations.js";
import { ADMISSION_PATHS } from "../model/routes.js";

export type WebhookTarget =
  /** Base URL of the server, e.g. https://127.0.0.1:8443 (paths are appended). */
  { url: string } | { service: { namespace: string; name: string; port?: number } };

export type WebhookConfigurationOptions = {
  name?: string;
  target: WebhookTarget;
  /** PEM of the CA that signed the serving certificate; omitted when cert-manager injects it. */
  caBundle?: string;
  /** graft's own namespace: never injected, so graft can always start even if it is down. */
  graftNamespace: string;
  /** More namespaces never to touch, besides kube-system, kube-public, kube-node-lease and graft's. */
  excludedNamespaces?: string[];
  timeoutSeconds?: number;
  /**
   * Also require these namespace labels on every webhook: confines a test's webhook to its own
   * namespaces on a cluster other tests share. Not for production use.
   */
  onlyNamespacesLabelled?: Record<string, string>;
  /** Annotations for the object, e.g. cert-manager.io/inject-ca-from. */
  annotations?: Record<string, string>;
};

const WORKLOAD_RULES = [
  { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets", "replicasets"] },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"] },
];

export function renderMutatingWebhookConfiguration(
  options: WebhookConfigurationOptions,
): V1MutatingWebhookConfiguration {
  const { name = "graft", timeoutSeconds = 5 } = options;
  const neverTouched: V1LabelSelectorRequirement = {
    key: "kubernetes.io/metadata.name",
    operator: "NotIn",
    values: [
      ...new Set([
        ...ALWAYS_EXCLUDED_NAMESPACES,
        options.graftNamespace,
        ...(options.excludedNamespaces ?? []),
      ]),
    ],
  };
  const confined: V1LabelSelectorRequirement[] = Object.entries(options.onlyNamespacesLabelled ?? {}).map(
    ([key, value]) => ({ key, operator: "In", values: [value] }),
  );
  const clientConfig = (path: string) => {
    const caBundle =
      options.caBundle === undefined ? {} : { caBundle: Buffer.from(options.caBundle).toString("base64") };
    if ("url" in options.target)
      return { url: `${options.target.url.replace(/\/+$/, "")}${path}`, ...caBundle };
    const { namespace, name: serviceName, port = 443 } = options.target.service;
    return { service: { namespace, name: serviceName, port, path }, ...caBundle };
  };
  const common = {
    admissionReviewVersions: ["v1"],
    sideEffects: "NoneOnDryRun",
    timeoutSeconds,
    matchPolicy: "Equivalent",
  } satisfies Partial<V1MutatingWebhook>;
  const podRules = [
    {
      apiGroups: [""],
      apiVersions: ["v1"],
      operations: ["CREATE"],
      resources: ["pods"],
      scope: "Namespaced",
    },
  ];

  const webhooks: V1MutatingWebhook[] = [
    {
      // Pods in a namespace labelled inject=enabled, unless the pod says disabled.
      name: `namespace.inject.${PREFIX.slice(0, -1)}`,
      clientConfig: clientConfig(ADMISSION_PATHS.namespacePods),
      rules: podRules,
      namespaceSelector: {
        matchExpressions: [
          { key: LABEL_INJECT, operator: "In", values: [INJECT_ENABLED] },
          neverTouched,
          ...confined,
        ],
      },
      objectSelector: {
        matchExpressions: [{ key: LABEL_INJECT, operator: "NotIn", values: [INJECT_DISABLED] }],
      },
      // A pod let through here would run without the platform features its namespace asked for
      // (a Spark job without its application.properties): better refused and retried by its controller.
      failurePolicy: "Fail",
      reinvocationPolicy: "IfNeeded",
      ...common,
    },
    {
      // Pods labelled inject=enabled in any other namespace. The two selectors are disjoint, so a
      // pod is never sent twice.
      name: `pod.inject.${PREFIX.slice(0, -1)}`,
      clientConfig: clientConfig(ADMISSION_PATHS.labelledPods),
      rules: podRules,
      namespaceSelector: {
        matchExpressions: [
          { key: LABEL_INJECT, operator: "NotIn", values: [INJECT_ENABLED] },
          neverTouched,
          ...confined,
        ],
      },
      objectSelector: { matchExpressions: [{ key: LABEL_INJECT, operator: "In", values: [INJECT_ENABLED] }] },
      failurePolicy: "Fail",
      reinvocationPolicy: "IfNeeded",
      ...common,
    },
    {
      // Workloads are only validated (never patched), so `kubectl apply` shows a bad annotation at
      // once instead of a ReplicaSet event nobody reads. It is advice at apply time: the pods are
      // checked again by the webhooks above. So it sees only what a person applies: a CREATE
      // carrying graft keys, an UPDATE that changes the pod template's graft keys, never an
      // object a controller made (a Deployment's ReplicaSets, a CronJob's Jobs). Scaling,
      // rollouts, the garbage collector's updates and deletion never reach it, and
      // failurePolicy Ignore lets an apply through while graft is down (docs/install.md).
      name: `workloads.validate.${PREFIX.slice(0, -1)}`,
      clientConfig: clientConfig(ADMISSION_PATHS.workloads),
      rules: WORKLOAD_RULES.map((rule) => ({
        ...rule,
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        scope: "Namespaced",
      })),
      namespaceSelector: { matchExpressions: [neverTouched, ...confined] },
      matchConditions: WORKLOAD_MATCH_CONDITIONS,
      failurePolicy: "Ignore",
      reinvocationPolicy: "Never",
      ...common,
    },
  ];

  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: {
      name,
      labels: { "app.kubernetes.io/name": "graft", "app.kubernetes.io/component": "webhook" },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    webhooks,
  };
}

/** Where graft keys are looked for: the workload, its pod template, a CronJob's job template. */
const WORKLOAD_METADATA = [["metadata"], ["spec", "template", "metadata"]] as const;
const TEMPLATE_METADATA = [
  ["spec", "template", "metadata"],
  ["spec", "jobTemplate", "spec", "template", "metadata"],
] as const;

/**
 * CEL for `root.<steps>.<field>`, or an empty map where a step is missing (optional field
 * selection, Kubernetes ≥ 1.28): an error in a matchCondition would count as a webhook failure.
 */
function mapAt(root: string, steps: readonly string[], field: string): string {
  return `${root}.?${[...steps, field].join(".?")}.orValue({})`;
}

/** CEL: true when the object has a graft label or annotation on its metadata or a template's. */
function carriesGraftKeys(): string {
  return [...WORKLOAD_METADATA, TEMPLATE_METADATA[1]]
    .flatMap((steps) =>
      ["annotations", "labels"].map(
        (field) => `${mapAt("object", steps, field)}.exists(k, k.startsWith('${PREFIX}'))`,
      ),
    )
    .join(" || ");
}

/**
 * CEL: true when an UPDATE adds, removes or changes a graft label or annotation of the pod
 * template (what the admission core compares too: admission.ts, sameGraftIntent).
 */
function graftTemplateKeysChanged(): string {
  return TEMPLATE_METADATA.flatMap((steps) =>
    ["annotations", "labels"].map((field) => {
      const now = mapAt("object", steps, field);
      const before = mapAt("oldObject", steps, field);
      return (
        `${now}.exists(k, k.startsWith('${PREFIX}') && ${before}[?k] != optional.of(${now}[k])) || ` +
        `${before}.exists(k, k.startsWith('${PREFIX}') && !(k in ${now}))`
      );
    }),
  ).join(" || ");
}

/**
 * What sends a workload to the validator (all must hold). On CREATE oldObject is null, so the
 * comparison runs only on UPDATE.
 */
export const WORKLOAD_MATCH_CONDITIONS = [
  {
    // A Deployment's ReplicaSets and a CronJob's Jobs are checked when their owner is applied.
    name: "not-made-by-a-controller",
    expression: "!object.?metadata.?ownerReferences.orValue([]).exists(r, r.?controller.orValue(false))",
  },
  {
    name: "graft-keys-applied",
    expression: `request.operation == 'CREATE' ? (${carriesGraftKeys()}) : (${graftTemplateKeysChanged()})`,
  },
];
