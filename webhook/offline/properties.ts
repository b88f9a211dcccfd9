/**
 * `graft inject --platform F`: the properties facts from files instead of the API server. F is
 * a `graft-platform` ConfigMap manifest or a `.properties` file; the component ConfigMaps named
 * by `graft.pnda.io/properties-configmap` are taken from the documents being injected.
 */
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { isRecord } from "../../core/result.js";
import { PROPERTIES_KEY, platformVariables } from "../features/properties/sources.js";
import type { PropertiesFacts } from "../model/facts.js";

function stringData(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

/** Platform variables from a ConfigMap manifest, or else from `key=value` lines. */
export function platformFromFile(text: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    parsed = undefined;
  }
  if (isRecord(parsed) && parsed.kind === "ConfigMap") return platformVariables(stringData(parsed.data));
  return platformVariables({ [PROPERTIES_KEY]: text });
}

/** The ConfigMaps among multi-document YAML, by name (a `List`'s items too). */
export function configMapsIn(text: string): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  const visit = (object: unknown) => {
    if (!isRecord(object)) return;
    if (object.kind === "List" && Array.isArray(object.items)) object.items.forEach(visit);
    const name = isRecord(object.metadata) ? object.metadata.name : undefined;
    if (object.kind === "ConfigMap" && typeof name === "string") found.set(name, stringData(object.data));
  };
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return found;
  for (const document of documents) if (document.errors.length === 0) visit(document.toJS());
  return found;
}

export function offlinePropertiesFacts(platformText: string, manifests: string): PropertiesFacts {
  return { platform: platformFromFile(platformText), configMaps: configMapsIn(manifests) };
}
