/**
 * The ConfigMap that carries one merged application.properties: its name (deterministic, so an
 * admission renders the same patch with or without creating it), labels, and the ownerReference
 * a pod's controller gets on it. Pure.
 */
import type { V1ConfigMap, V1OwnerReference } from "@kubernetes/client-node";
import { sha256Hex } from "../../../core/digest.js";
import { LABEL_MANAGED_BY, MANAGED_BY_GRAFT } from "../../model/kube.js";
import { PROPERTIES_KEY } from "./sources.js";

export const CONFIGMAP_PREFIX = "graft-props-";
export { LABEL_MANAGED_BY, MANAGED_BY_GRAFT } from "../../model/kube.js";
export const LABEL_APP = "graft.pnda.io/app";
export const LABEL_COMPONENT = "graft.pnda.io/component";
/** When an ownerless ConfigMap (used by a bare pod) was last used; the clean-up's grace runs from it. */
export const ANNOTATION_LAST_USED = "graft.pnda.io/last-used";

/** Selects every ConfigMap graft made: properties, and the notebook sync script (features/notebooks/sync-configmap.ts). */
export const GRAFT_CONFIGMAPS_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_GRAFT}`;

const NAME_PART_MAX = 100;

/**
 * The largest merged application.properties graft stores, in UTF-8 bytes: far above a real
 * one (a few KiB), far below a ConfigMap's 1 MiB. A forged review can carry any annotation, so
 * this bounds what one admission makes graft write; the ValidatingAdmissionPolicy
 * (webhook/install/write-policy.ts) holds graft's ServiceAccount to the same bound.
 */
export const MAX_PROPERTIES_BYTES = 256 * 1024;

/** Why `content` is too large to store, naming the limit; undefined when it fits. */
export function propertiesSizeError(content: string): string | undefined {
  const bytes = new TextEncoder().encode(content).length;
  return bytes <= MAX_PROPERTIES_BYTES
    ? undefined
    : `the merged application.properties would be ${bytes} bytes, above graft's limit of ${MAX_PROPERTIES_BYTES} bytes (256 KiB): make the component's properties or "graft.pnda.io/properties-overrides" smaller`;
}

/** The first 10 hex digits of SHA-256 over app, component and the file: equal inputs, equal name. */
export function contentHash(app: string, component: string, content: string): string {
  return sha256Hex(`${app}\n${component}\n${content}`).slice(0, 10);
}

/** `graft-props-<app>-<component>-<hash10>`: a DNS subdomain name of at most 223 characters. */
export function propertiesConfigMapName(app: string, component: string, content: string): string {
  return `${CONFIGMAP_PREFIX}${dnsPart(app)}-${dnsPart(component)}-${contentHash(app, component, content)}`;
}

function dnsPart(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, NAME_PART_MAX)
    .replace(/^-+|-+$/g, "");
  return cleaned === "" ? "x" : cleaned;
}

/** A label value (≤63, alphanumerics at both ends) standing for `text`. */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

export type PropertiesConfigMapSpec = {
  namespace: string;
  app: string;
  component: string;
  content: string;
};

/** The whole object graft applies (server-side apply); owners are added separately, one at a time. */
export function propertiesConfigMap(
  spec: PropertiesConfigMapSpec,
): V1ConfigMap & { metadata: { name: string } } {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: propertiesConfigMapName(spec.app, spec.component, spec.content),
      namespace: spec.namespace,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY_GRAFT,
        [LABEL_APP]: labelValue(spec.app),
        [LABEL_COMPONENT]: labelValue(spec.component),
      },
    },
    immutable: true,
    data: { [PROPERTIES_KEY]: spec.content },
  };
}

/**
 * The ownerReference for a pod's controller (its ownerReference with `controller: true`), or
 * undefined for a bare pod. Not a controller of the ConfigMap, and no blockOwnerDeletion: the
 * ConfigMap is shared by every controller that uses it and must not hold any of them up.
 */
export function ownerReferenceFor(
  podOwners: readonly V1OwnerReference[] | undefined,
): V1OwnerReference | undefined {
  const controller = podOwners?.find((owner) => owner.controller === true);
  if (!controller) return undefined;
  return {
    apiVersion: controller.apiVersion,
    kind: controller.kind,
    name: controller.name,
    uid: controller.uid,
    controller: false,
  };
}
