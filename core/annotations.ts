/** The opt-in contract of DESIGN.md: every label and annotation graft reads or writes. */
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
