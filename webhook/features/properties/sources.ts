/**
 * Reading what goes into the merged file: the platform variables (ConfigMap `graft-platform`),
 * the component's own ConfigMap (`application.properties` and/or PNDA's `properties.json`) and
 * the user's overrides. Pure: the caller fetches the objects; errors say what to fix.
 */
import type { Result } from "../../../core/result.js";
import { jsonObject, type PropertyValue } from "../../model/value-forms.js";

export const PLATFORM_CONFIGMAP = "graft-platform";
export const PROPERTIES_KEY = "application.properties";
export const PROPERTIES_JSON_KEY = "properties.json";

/**
 * Platform variables from `graft-platform`'s data: each key is a variable (`kafka_brokers:
 * host:9092`), and a key `application.properties` may hold more as `key=value` lines (a
 * PNDA-generated file's `environment.` prefix is dropped). A separate key wins over a line of the
 * file. Sorted by name, so the merged file (and its hash) does not depend on where a variable
 * was written.
 */
export function platformVariables(data: Readonly<Record<string, string>> | undefined): Map<string, string> {
  const merged = new Map<string, string>();
  const fileText = data?.[PROPERTIES_KEY];
  if (fileText !== undefined) {
    for (const [key, value] of parseJavaProperties(fileText)) {
      merged.set(key.startsWith("environment.") ? key.slice("environment.".length) : key, value);
    }
  }
  for (const [key, value] of Object.entries(data ?? {})) {
    if (key !== PROPERTIES_KEY) merged.set(key, value);
  }
  return new Map([...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export type ComponentSource = {
  /** The component's own application.properties ("" when the ConfigMap has none). */
  ownText: string;
  /** properties.json, in file order. */
  componentProperties: Map<string, PropertyValue>;
};

/** The component's ConfigMap, named by `graft.pnda.io/properties-configmap`. */
export function componentSource(
  where: { namespace: string; name: string },
  data: Readonly<Record<string, string>> | undefined,
): Result<ComponentSource> {
  const ownText = data?.[PROPERTIES_KEY];
  const json = data?.[PROPERTIES_JSON_KEY];
  const named = `ConfigMap "${where.name}" in namespace "${where.namespace}"`;
  if (ownText === undefined && json === undefined) {
    return {
      ok: false,
      error: `${named} has neither key "${PROPERTIES_KEY}" nor "${PROPERTIES_JSON_KEY}": add one, or point graft.pnda.io/properties-configmap at the right ConfigMap`,
    };
  }
  let componentProperties = new Map<string, PropertyValue>();
  if (json !== undefined) {
    const parsed = jsonObject(json);
    if (!parsed.ok) return { ok: false, error: `${named}, key "${PROPERTIES_JSON_KEY}": ${parsed.error}` };
    componentProperties = parsed.value;
  }
  return { ok: true, value: { ownText: ownText ?? "", componentProperties } };
}

/**
 * `java.util.Properties.load` for text: `#`/`!` comments, `key=value`, `key: value` or
 * `key value`, backslash line continuations and escapes (`\t`, `\n`, `\uXXXX`, `\=`).
 */
export function parseJavaProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const natural = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < natural.length; i++) {
    let line = natural[i]!.replace(/^[ \t\f]+/, "");
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    while (endsInContinuation(line) && i + 1 < natural.length) {
      line = line.slice(0, -1) + natural[++i]!.replace(/^[ \t\f]+/, "");
    }
    if (endsInContinuation(line)) line = line.slice(0, -1);
    const split = keyEnd(line);
    const key = unescapeProperties(line.slice(0, split));
    const rest = line.slice(split).replace(/^[ \t\f]*[=:]?[ \t\f]*/, "");
    result.set(key, unescapeProperties(rest));
  }
  return result;
}

function endsInContinuation(line: string): boolean {
  const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
  return trailing % 2 === 1;
}

function keyEnd(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "\\") i++;
    else if (char === "=" || char === ":" || char === " " || char === "\t" || char === "\f") return i;
  }
  return line.length;
}

const ESCAPES: Record<string, string> = { t: "\t", n: "\n", r: "\r", f: "\f" };

function unescapeProperties(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) =>
    escaped.length === 5
      ? String.fromCharCode(Number.parseInt(escaped.slice(1), 16))
      : (ESCAPES[escaped] ?? escaped),
  );
}
