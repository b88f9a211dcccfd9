/**
 * application.properties (docs/design.md "What is injected" §1): the component's own file merged
 * PNDA-style with the platform variables (properties/pnda-format.ts), stored in an immutable
 * ConfigMap named from its content (properties/configmap.ts), which the server ensures exists
 * before the pod is admitted, and mounted into the app containers (properties/mount.ts).
 */
import { ANNOTATION, type ComponentType } from "../../../core/annotations.js";
import { createMemo, identityOf } from "../../../core/memo.js";
import {
  type Feature,
  type FeaturePlan,
  GRAFT_CONTAINER_PREFIX,
  type PlanInput,
  renderableCopy,
} from "../../model/feature.js";
import type { PodLike } from "../../model/kube.js";
import { reason } from "../../model/reasons.js";
import type { PropertyValue } from "../../model/value-forms.js";
import { ownerReferenceFor, propertiesConfigMap, propertiesSizeError } from "./configmap.js";
import { DEFAULT_MOUNT_PATH, renderPropertiesMount } from "./mount.js";
import { mergeApplicationProperties } from "./pnda-format.js";
import { componentSource, PROPERTIES_KEY } from "./sources.js";

export type PropertiesParams = {
  /** The ConfigMap holding the merged file (graft-props-<app>-<component>-<hash>). */
  configMap: string;
  mountPath: string;
};

/** Component types that get the file unless `graft.pnda.io/properties: "false"`. */
export const PROPERTIES_BY_DEFAULT: ReadonlySet<ComponentType> = new Set([
  "sparkStreaming",
  "flinkStreaming",
]);

/** Begins every message about properties that could not be made (code "properties-unavailable"). */
export const PROPERTIES_UNAVAILABLE = "application.properties could not be made";

/** `application.user`: the identity the pod runs as. */
export function applicationUser(pod: Readonly<PodLike>): string {
  return pod.spec?.serviceAccountName || "default";
}

type MergedConfigMap =
  | { ok: true; configMap: ReturnType<typeof propertiesConfigMap> }
  | { ok: false; error: string };

/** At most 256 files of up to 64 KiB each are held: a larger one is merged for every pod. */
const mergedConfigMaps = createMemo<MergedConfigMap>({
  capacity: 256,
  keep: (merged) => !merged.ok || (merged.configMap.data?.[PROPERTIES_KEY]?.length ?? 0) <= 65_536,
});
const NO_PLATFORM: ReadonlyMap<string, string> = new Map();

export function planProperties(input: PlanInput): FeaturePlan<PropertiesParams> {
  const { pod, namespace, intent, componentType, app, component, facts } = input;
  const enabled = intent.properties ?? PROPERTIES_BY_DEFAULT.has(componentType);
  if (!enabled) {
    return intent.properties === false
      ? { skip: reason("disabled", `annotation "${ANNOTATION.properties}" is "false"`) }
      : {
          skip: reason(
            "off-by-default",
            `off by default for component type ${componentType}: set "${ANNOTATION.properties}" to "true"`,
          ),
        };
  }
  if (app === undefined || component === undefined) {
    const missing = app === undefined ? ANNOTATION.app : ANNOTATION.component;
    return {
      deny: [
        reason(
          "properties-names-missing",
          `application.properties needs an app and a component name: set annotation "${missing}"`,
        ),
      ],
    };
  }

  const known = facts.properties;
  if (known?.unavailable !== undefined) {
    const message = `${PROPERTIES_UNAVAILABLE}: ${known.unavailable}`;
    return facts.config.properties.onFailure === "warn"
      ? {
          skip: reason("properties-unavailable", message),
          warnings: [`graft: ${message}; admitted without it (properties.onFailure: warn)`],
        }
      : {
          deny: [
            reason(
              "properties-unavailable",
              `${message}; the pod's controller retries (or set properties.onFailure: warn in graft's config)`,
            ),
          ],
        };
  }

  const sourceName = intent.propertiesConfigMap;
  const data = sourceName !== undefined && known !== undefined ? known.configMaps.get(sourceName) : undefined;
  if (sourceName !== undefined && known !== undefined && data === undefined) {
    return {
      deny: [
        reason(
          "properties-source-missing",
          `annotation "${ANNOTATION.propertiesConfigMap}" names ConfigMap "${sourceName}", which does not exist in namespace "${namespace}": create it, or remove the annotation`,
        ),
      ],
    };
  }
  const user = applicationUser(pod);
  const platform = known?.platform ?? NO_PLATFORM;
  const overrides = intent.propertiesOverrides ?? {};
  // Every pod of one app gives the same inputs: merge and hash once (core/memo.ts).
  const key = JSON.stringify([
    identityOf(platform),
    data === undefined ? 0 : identityOf(data),
    sourceName ?? null,
    namespace,
    app,
    component,
    componentType,
    user,
    overrides,
  ]);
  const merged = mergedConfigMaps(key, () => {
    let ownText = "";
    let componentProperties = new Map<string, PropertyValue>();
    if (sourceName !== undefined && data !== undefined) {
      const source = componentSource({ namespace, name: sourceName }, data);
      if (!source.ok) return { ok: false as const, error: source.error };
      ({ ownText, componentProperties } = source.value);
    }
    const content = mergeApplicationProperties({
      ownText,
      platform,
      componentProperties,
      overrides: new Map(Object.entries(overrides)),
      application: app,
      component,
      user,
      kubernetes: new Map([
        ["namespace", namespace],
        ["app", app],
        ["component", component],
        ["component_type", componentType],
        ["service_account", user],
      ]),
    });
    const tooLarge = propertiesSizeError(content);
    if (tooLarge !== undefined) return { ok: false as const, error: tooLarge };
    return { ok: true as const, configMap: propertiesConfigMap({ namespace, app, component, content }) };
  });
  if (!merged.ok) return { deny: [reason("properties-invalid", merged.error)] };
  const owner = ownerReferenceFor(pod.metadata?.ownerReferences);
  const configMap = owner
    ? { ...merged.configMap, metadata: { ...merged.configMap.metadata, ownerReferences: [owner] } }
    : merged.configMap;

  const params = {
    configMap: configMap.metadata.name,
    mountPath: intent.propertiesMountPath ?? DEFAULT_MOUNT_PATH,
  };
  // Rendering a throw-away copy tells what the real render will have to leave alone.
  const warnings = renderPropertiesMount(renderableCopy(pod as PodLike), mountSpec(pod, params)).map(
    (warning) => `graft: ${warning}`,
  );
  return { apply: params, create: [configMap], ...(warnings.length > 0 ? { warnings } : {}) };
}

function mountSpec(pod: Readonly<PodLike>, params: PropertiesParams) {
  const graftContainers = (pod.spec?.containers ?? [])
    .map((c) => c.name)
    .filter((name) => name.startsWith(GRAFT_CONTAINER_PREFIX));
  return {
    configMapName: params.configMap,
    mountPath: params.mountPath,
    skipContainers: new Set(graftContainers),
  };
}

export function renderProperties(pod: PodLike, params: PropertiesParams): void {
  renderPropertiesMount(pod, mountSpec(pod, params));
}

export const propertiesFeature: Feature<PropertiesParams> = {
  name: "properties",
  plan: planProperties,
  render: renderProperties,
};
