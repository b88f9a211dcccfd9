/** The opt-in contract of docs/design.md: every label and annotation graft reads or writes. */
export const PREFIX = "graft.pnda.io/";

export const LABEL_INJECT = `${PREFIX}inject`;
export const INJECT_ENABLED = "enabled";
export const INJECT_DISABLED = "disabled";

export const ANNOTATION = {
  componentType: `${PREFIX}component-type`,
  app: `${PREFIX}app`,
  component: `${PREFIX}component`,
  properties: `${PREFIX}properties`,
  propertiesConfigMap: `${PREFIX}properties-configmap`,
  propertiesMountPath: `${PREFIX}properties-mount-path`,
  /** A JSON object of component properties that win over the ConfigMap's properties.json (PNDA's user overrides). */
  propertiesOverrides: `${PREFIX}properties-overrides`,
  notebooks: `${PREFIX}notebooks`,
  notebooksUser: `${PREFIX}notebooks-user`,
  health: `${PREFIX}health`,
  checks: `${PREFIX}checks`,
  checksConfigMap: `${PREFIX}checks-configmap`,
  /** The port graft-agent listens on, when the pod needs the configured one (agent.port) itself. */
  agentPort: `${PREFIX}agent-port`,
  status: `${PREFIX}status`,
} as const;

export type AnnotationName = keyof typeof ANNOTATION;

export const COMPONENT_TYPES = ["sparkStreaming", "flinkStreaming", "jupyter", "generic"] as const;
export type ComponentType = (typeof COMPONENT_TYPES)[number];

/** Namespaces graft never touches, whatever their labels say. */
export const ALWAYS_EXCLUDED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** True when `key` is a graft annotation (graft.pnda.io/...). */
export function isGraftAnnotation(key: string): boolean {
  return key.startsWith(PREFIX);
}

/**
 * Limits on graft annotations, checked before any value is parsed or any hint computed: the
 * webhook reads them from every review, and a review written by hand (not by the API server) can
 * carry anything up to its body limit.
 */
export const ANNOTATION_LIMITS = {
  /** `graft.pnda.io/*` keys read from one object; graft knows 15 (a few more to say which is unknown). */
  keys: 32,
  /** Characters after the prefix, as Kubernetes allows in a key's name. */
  name: 63,
  /** Characters of a value, unless `values` says otherwise. */
  value: 1024,
  /** Unknown keys given a "did you mean" hint; the rest are counted. */
  hints: 4,
} as const;

/** Characters of the values that hold a document; the checks spec has its own limits in checks.ts too. */
export const ANNOTATION_VALUE_LIMITS: Readonly<Record<string, number>> = {
  [ANNOTATION.checks]: 65_536,
  [ANNOTATION.propertiesOverrides]: 65_536,
  [ANNOTATION.status]: 4096,
};

/** The longest value graft reads from annotation `key`. */
export function annotationValueLimit(key: string): number {
  return ANNOTATION_VALUE_LIMITS[key] ?? ANNOTATION_LIMITS.value;
}
