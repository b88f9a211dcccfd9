/**
 * The merged `application.properties`, byte for byte as PNDA's deployment manager wrote it
 * (platform-deployment-manager, plugins/base_creator.py: `_instantiate_properties`,
 * `_auto_fill_app_properties`, then `_fill_properties` on the whole file):
 *
 *   1. the component's own text, unchanged;
 *   2. unless a component property `no_auto_props` exists (any value: PNDA tested presence):
 *      "\n", then one `key=value\n` line per property, in this order — `environment_<k>` for
 *      each platform variable, `component_<k>` for each properties.json entry (an override
 *      replaces the value in place; a new override key comes after), `component_application`,
 *      `component_name`, `component_job_name` (`<app>-<component>-job`),
 *      `application_hdfs_root`, `component_hdfs_root`, `application_user` — each internal name
 *      written with only its first `_` turned into `.`; then graft's Kubernetes facts as
 *      `kubernetes.<k>=<v>`;
 *   3. `$name` / `${name}` placeholders anywhere in the result replaced by the value of the
 *      internal name (Python's `string.Template.safe_substitute`: unknown names stay, `$$` → `$`).
 *
 * Values are written as Python 3's `'%s' % value` writes them (True/False/None, 1e-05, ['a']).
 */
import type { PropertyValue } from "../../model/value-forms.js";

export type MergeInput = {
  /** The component's own application.properties ("" when it has none). */
  ownText: string;
  /** Platform variables by internal name (`kafka_brokers`), written in this map's order. */
  platform: ReadonlyMap<string, string>;
  /** The component's properties.json entries, in file order. */
  componentProperties: ReadonlyMap<string, PropertyValue>;
  /** The user's overrides of component properties: they win. */
  overrides: ReadonlyMap<string, PropertyValue>;
  application: string;
  component: string;
  user: string;
  /** Facts about the workload, written after PNDA's keys as `kubernetes.<k>=<v>`. */
  kubernetes: ReadonlyMap<string, string>;
};

/** PNDA's HDFS root for an application (kept: its apps read `application.hdfs_root`). */
export function applicationHdfsRoot(user: string, application: string): string {
  return `/pnda/system/deployment-manager/applications/${user}/${application}`;
}

/** The properties PNDA appended, by internal name (`environment_kafka_brokers`), in PNDA's order. */
export function pndaProperties(input: MergeInput): Map<string, PropertyValue> {
  const props = new Map<string, PropertyValue>();
  for (const [key, value] of input.platform) props.set(`environment_${key}`, value);
  for (const [key, value] of input.componentProperties) props.set(`component_${key}`, value);
  // Map.set on an existing key keeps its position, as Python's OrderedDict does.
  for (const [key, value] of input.overrides) props.set(`component_${key}`, value);
  props.set("component_application", input.application);
  props.set("component_name", input.component);
  props.set("component_job_name", `${input.application}-${input.component}-job`);
  const hdfsRoot = applicationHdfsRoot(input.user, input.application);
  props.set("application_hdfs_root", hdfsRoot);
  props.set("component_hdfs_root", `${hdfsRoot}/${input.component}`);
  props.set("application_user", input.user);
  return props;
}

/** `kafka_brokers` stays; `environment_kafka_brokers` → `environment.kafka_brokers`. */
export function propertyKey(internalName: string): string {
  return internalName.replace("_", ".");
}

/** The merged file's text. */
export function mergeApplicationProperties(input: MergeInput): string {
  const props = pndaProperties(input);
  let text = input.ownText;
  if (!props.has("component_no_auto_props")) {
    const lines = [...props].map(([key, value]) => `${propertyKey(key)}=${pythonStr(value)}\n`);
    for (const [key, value] of input.kubernetes) lines.push(`kubernetes.${key}=${value}\n`);
    text += `\n${lines.join("")}`;
  }
  const mapping = new Map<string, string>();
  for (const [key, value] of props) mapping.set(key, pythonStr(value));
  for (const [key, value] of input.kubernetes) mapping.set(`kubernetes_${key}`, value);
  return safeSubstitute(text, mapping);
}

const PLACEHOLDER = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})/gi;

/** Python's `string.Template(text).safe_substitute(mapping)`. */
export function safeSubstitute(text: string, mapping: ReadonlyMap<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, escaped?: string, named?: string, braced?: string) => {
    if (escaped !== undefined) return "$";
    const value = mapping.get((named ?? braced)!);
    return value ?? whole;
  });
}

/** Python 3's `str(value)` for a value parsed from JSON. */
export function pythonStr(value: PropertyValue): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

function pythonRepr(value: PropertyValue): string {
  if (value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "string") return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  const entries = Object.entries(value).map(([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`);
  return `{${entries.join(", ")}}`;
}

/**
 * Safe integers are written as Python ints, others as Python's shortest float repr (fixed
 * notation for exponents -4..15, else `1e-05` / `1.5e+20`). JSON.parse cannot tell `1.0` from
 * `1`, so a float with no fraction comes out as `1`, where PNDA wrote `1.0`: quote such values.
 */
function pythonNumber(value: number): string {
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) return fixedFromExponential(mantissa, exponent);
  const sign = exponent < 0 ? "-" : "+";
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

function fixedFromExponential(mantissa: string, exponent: number): string {
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const point = exponent + 1;
  let text: string;
  if (point <= 0) text = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) text = `${digits}${"0".repeat(point - digits.length)}.0`;
  else text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${text}` : text;
}

function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text
    .replaceAll("\\", "\\\\")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t")
    .replaceAll(quote, `\\${quote}`);
  return `${quote}${escaped}${quote}`;
}
