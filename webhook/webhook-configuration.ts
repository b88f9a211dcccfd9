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
} from "../core/annotations.js";

/**
 * One route per webhook, so the server knows which selector let the pod through: a pod that
 * arrives on NAMESPACE_PODS is in a namespace labelled `inject=enabled`, without an API call.
 */
export const ADMISSION_PATHS = {
  namespacePods: "/mutate/namespace",
  labelledPods: "/mutate/pod",
  workloads: "/validate",
} as const;

export type AdmissionRoute = keyof typeof ADMISSION_PATHS;

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
      // once instead of a ReplicaSet event nobody reads. Selectors cannot see a pod template, so
      // matchConditions keep every workload without graft keys away from graft; that is why
      // failurePolicy can be Fail: a graft outage blocks changes only to workloads that use graft,
      // whose pods the pod webhooks would refuse anyway.
      name: `workloads.validate.${PREFIX.slice(0, -1)}`,
      clientConfig: clientConfig(ADMISSION_PATHS.workloads),
      rules: WORKLOAD_RULES.map((rule) => ({
        ...rule,
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        scope: "Namespaced",
      })),
      namespaceSelector: { matchExpressions: [neverTouched, ...confined] },
      matchConditions: [{ name: "carries-graft-keys", expression: carriesGraftKeys() }],
      failurePolicy: "Fail",
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

/**
 * CEL: true when the workload, its pod template (spec.template) or a CronJob's
 * (spec.jobTemplate.spec.template) has a graft label or annotation. Every step is guarded with
 * has(): an error here would count as a webhook failure.
 */
function carriesGraftKeys(): string {
  const graftKeysIn = (metadata: string) =>
    ["annotations", "labels"]
      .map(
        (field) => `(has(${metadata}.${field}) && ${metadata}.${field}.exists(k, k.startsWith('${PREFIX}')))`,
      )
      .join(" || ");
  const guarded = (steps: string[]) => {
    const paths = steps.map((_, i) => `object.${steps.slice(0, i + 1).join(".")}`);
    const metadata = paths[paths.length - 1] as string;
    return `(${paths.map((path) => `has(${path})`).join(" && ")} && (${graftKeysIn(metadata)}))`;
  };
  return [
    guarded(["metadata"]),
    guarded(["spec", "template", "metadata"]),
    guarded(["spec", "jobTemplate", "spec", "template", "metadata"]),
  ].join(" || ");
}
