/**
 * What a pod asks of graft, read from its `graft.pnda.io/*` annotations. Every graft annotation
 * is validated here, once; an error names the annotation, the value and the form expected, so
 * the message kubectl prints is enough to fix it.
 */

import { AGENT_PORT_MAX, AGENT_PORT_MIN } from "../../core/agent-endpoint.js";
import {
  ANNOTATION,
  ANNOTATION_LIMITS,
  annotationValueLimit,
  COMPONENT_TYPES,
  type ComponentType,
  LABEL_INJECT,
  PREFIX,
} from "../../core/annotations.js";
import { type CheckSpec, parseChecksAsWritten } from "../../core/checks.js";
import { jsonTextDepth } from "../../core/limits.js";
import { createMemo } from "../../core/memo.js";
import type { Result } from "../../core/result.js";
import { isValidNotebookUser, jsonObject, NOTEBOOK_USER_FORM, type PropertyValue } from "./value-forms.js";

export type Intent = {
  componentType?: ComponentType;
  app?: string;
  component?: string;
  properties?: boolean;
  propertiesConfigMap?: string;
  propertiesMountPath?: string;
  /** Component properties that win over properties.json, in the order written. */
  propertiesOverrides?: Record<string, PropertyValue>;
  notebooks?: boolean;
  notebooksUser?: string;
  health?: boolean;
  /** Validated checks, as written (defaults not expanded), ready for `GRAFT_CHECKS`. */
  checks?: CheckSpec[];
  checksConfigMap?: string;
  agentPort?: number;
};

export type IntentResult = Result<Intent, string[]>;

const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isConfigMapName = (value: string) => DNS_SUBDOMAIN.test(value);

/** Levels of lists and objects in `properties-overrides` (PNDA's values are flat, or a list). */
export const OVERRIDES_DEPTH = 8;

export const EXPECTED = {
  boolean: 'expected "true" or "false"',
  componentType: `expected one of ${COMPONENT_TYPES.join(", ")}`,
  name: 'expected up to 63 letters, digits, "-", "_" or ".", beginning and ending with a letter or digit',
  configMap:
    'expected the name of a ConfigMap in the pod\'s namespace (lowercase letters, digits, "-" and ".")',
  mountPath: 'expected an absolute directory path such as /etc/graft, without ".." or ":"',
  overrides: 'expected a JSON object of component properties such as {"batch_size_seconds": "5"}',
  overridesDepth: `expected at most ${OVERRIDES_DEPTH} levels of nested objects and lists`,
  username: `expected a JupyterHub username: ${NOTEBOOK_USER_FORM}`,
  port: `expected a port number from ${AGENT_PORT_MIN} to ${AGENT_PORT_MAX} (graft-agent runs without privileges)`,
  checks:
    'expected a YAML or JSON list of checks such as [{name: api, type: http, url: "http://api:8080/healthz"}]',
} as const;

export function isValidMountPath(path: string): boolean {
  return (
    path.startsWith("/") &&
    path !== "/" &&
    path.length <= 1024 &&
    !path.includes(":") &&
    !path.split("/").includes("..") &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
    !/[\u0000-\u001f]/.test(path)
  );
}

/** A value as it appears in a message: quoted, and cut short if long. */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

function invalid(key: string, value: string, expected: string): string {
  return `annotation "${key}" is ${quoted(value)}: ${expected}`;
}

const GRAFT_OWNED = new Set<string>([ANNOTATION.status]);
const KNOWN = new Set<string>(Object.values(ANNOTATION));

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const READ_NAMES = `${PREFIX}{${[...KNOWN]
  .filter((name) => !GRAFT_OWNED.has(name))
  .map((name) => name.slice(PREFIX.length))
  .join(", ")}}`;

/** Only called for keys within ANNOTATION_LIMITS.name: the edit distance is quadratic in length. */
function unknownAnnotation(key: string): string {
  if (key === LABEL_INJECT) {
    return `"${LABEL_INJECT}" is a label, not an annotation: move it to metadata.labels (on a workload, spec.template.metadata.labels)`;
  }
  const nearest = [...KNOWN]
    .map((known) => ({ known, distance: editDistance(key, known) }))
    .sort((a, b) => a.distance - b.distance)[0];
  const hint = nearest && nearest.distance <= 3 ? ` did you mean "${nearest.known}"?` : "";
  return `unknown annotation "${key}":${hint} graft reads ${READ_NAMES}`;
}

/**
 * Why an annotation cannot be read at all (a key or value longer than graft reads, a value that
 * is not a string), before anything parses it; undefined when it can be.
 */
function unreadable(key: string, value: unknown): string | undefined {
  const { name } = ANNOTATION_LIMITS;
  if (key.length > PREFIX.length + name) {
    return `annotation key ${quoted(key)} is ${key.length} characters long: Kubernetes allows ${name} after "${PREFIX}"`;
  }
  if (typeof value !== "string") return `annotation "${key}" is not a string`;
  const limit = annotationValueLimit(key);
  if (value.length > limit) {
    return `annotation "${key}" is ${value.length} characters long, at most ${limit} are read`;
  }
  return undefined;
}

function parseBoolean(key: string, value: string, errors: string[]): boolean | undefined {
  if (value === "true") return true;
  if (value === "false") return false;
  errors.push(invalid(key, value, EXPECTED.boolean));
  return undefined;
}

function parseMatching(
  key: string,
  value: string,
  valid: (value: string) => boolean,
  expected: string,
  errors: string[],
): string | undefined {
  if (valid(value)) return value;
  errors.push(invalid(key, value, expected));
  return undefined;
}

/** A decimal port number in the agent's range: digits only, no sign, no leading zero. */
function parsePort(key: string, value: string, errors: string[]): number | undefined {
  const port = /^[1-9][0-9]{0,4}$/.test(value) ? Number(value) : Number.NaN;
  if (port >= AGENT_PORT_MIN && port <= AGENT_PORT_MAX) return port;
  errors.push(invalid(key, value, EXPECTED.port));
  return undefined;
}

type ParsedChecks = Result<CheckSpec[], string[]>;

/**
 * Every pod of an app carries the same checks: validate each distinct text once it comes again
 * (a text one pod alone carries is not kept: see createMemo's secondSight).
 */
const parsedChecks = createMemo<ParsedChecks>({ secondSight: true });

function parseChecksText(value: string): ParsedChecks {
  // The spec as written (plus its source), not the expanded form: GRAFT_CHECKS must parse again.
  const result = parseChecksAsWritten(value);
  if (result.ok) return result;
  const structural = result.error.some((error) => !error.startsWith("check "));
  return { ok: false, error: structural ? [...result.error, EXPECTED.checks] : result.error };
}

function parseChecks(key: string, value: string, errors: string[]): CheckSpec[] | undefined {
  const result = parsedChecks(value, () => parseChecksText(value));
  if (result.ok) return result.value;
  for (const error of result.error) errors.push(`annotation "${key}": ${error}`);
  return undefined;
}

/**
 * Reads the graft annotations of a pod (or pod template). Unknown `graft.pnda.io/*` keys are
 * errors too (a typo would otherwise silently do nothing); `status` is graft's own and ignored.
 */
export function parseIntent(annotations: Record<string, string> | undefined): IntentResult {
  const intent: Intent = {};
  const errors: string[] = [];
  // A review written by hand can hold anything where the API server would put a map of strings.
  const raw: unknown = annotations;
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    return { ok: false, error: ["metadata.annotations is not a map of strings"] };
  }
  const keys = Object.keys(annotations ?? {}).filter(
    (key) => key.startsWith(PREFIX) && !GRAFT_OWNED.has(key),
  );
  if (keys.length > ANNOTATION_LIMITS.keys) {
    return {
      ok: false,
      error: [
        `${keys.length} ${PREFIX}* annotations, at most ${ANNOTATION_LIMITS.keys} are read: graft reads ${READ_NAMES}`,
      ],
    };
  }
  let unknown = 0;
  for (const key of keys) {
    const rawValue: unknown = annotations![key];
    const refused = unreadable(key, rawValue);
    if (refused) {
      errors.push(refused);
      continue;
    }
    const value = rawValue as string;
    switch (key) {
      case ANNOTATION.componentType:
        if ((COMPONENT_TYPES as readonly string[]).includes(value))
          intent.componentType = value as ComponentType;
        else errors.push(invalid(key, value, EXPECTED.componentType));
        break;
      case ANNOTATION.app:
        intent.app = parseMatching(key, value, (v) => LABEL_VALUE.test(v), EXPECTED.name, errors);
        break;
      case ANNOTATION.component:
        intent.component = parseMatching(key, value, (v) => LABEL_VALUE.test(v), EXPECTED.name, errors);
        break;
      case ANNOTATION.properties:
        intent.properties = parseBoolean(key, value, errors);
        break;
      case ANNOTATION.propertiesConfigMap:
        intent.propertiesConfigMap = parseMatching(key, value, isConfigMapName, EXPECTED.configMap, errors);
        break;
      case ANNOTATION.propertiesMountPath:
        intent.propertiesMountPath = parseMatching(key, value, isValidMountPath, EXPECTED.mountPath, errors);
        break;
      case ANNOTATION.propertiesOverrides: {
        // Counted on the text, before JSON.parse builds anything: 64 KiB of "[" is 65,000 arrays.
        if (jsonTextDepth(value, OVERRIDES_DEPTH) > OVERRIDES_DEPTH) {
          errors.push(invalid(key, value, EXPECTED.overridesDepth));
          break;
        }
        const parsed = jsonObject(value);
        if (!parsed.ok) errors.push(invalid(key, value, EXPECTED.overrides));
        else intent.propertiesOverrides = Object.fromEntries(parsed.value);
        break;
      }
      case ANNOTATION.notebooks:
        intent.notebooks = parseBoolean(key, value, errors);
        break;
      case ANNOTATION.notebooksUser:
        intent.notebooksUser = parseMatching(key, value, isValidNotebookUser, EXPECTED.username, errors);
        break;
      case ANNOTATION.health:
        intent.health = parseBoolean(key, value, errors);
        break;
      case ANNOTATION.checks:
        intent.checks = parseChecks(key, value, errors);
        break;
      case ANNOTATION.checksConfigMap:
        intent.checksConfigMap = parseMatching(key, value, isConfigMapName, EXPECTED.configMap, errors);
        break;
      case ANNOTATION.agentPort:
        intent.agentPort = parsePort(key, value, errors);
        break;
      default:
        unknown++;
        if (unknown <= ANNOTATION_LIMITS.hints) errors.push(unknownAnnotation(key));
    }
  }
  if (unknown > ANNOTATION_LIMITS.hints) {
    errors.push(`… and ${unknown - ANNOTATION_LIMITS.hints} more unknown ${PREFIX}* annotations`);
  }
  const given = (name: keyof typeof ANNOTATION) => annotations?.[ANNOTATION[name]] !== undefined;
  if (given("checks") && given("checksConfigMap")) {
    errors.push(
      `annotations "${ANNOTATION.checks}" and "${ANNOTATION.checksConfigMap}" are both set: keep one of them`,
    );
  }
  if (intent.health === false && (given("checks") || given("checksConfigMap"))) {
    const checks = given("checks") ? ANNOTATION.checks : ANNOTATION.checksConfigMap;
    errors.push(
      `annotation "${ANNOTATION.health}" is "false" but "${checks}" is set: remove "${checks}", or set "${ANNOTATION.health}" to "true"`,
    );
  }
  for (const key of Object.keys(intent) as (keyof Intent)[]) {
    if (intent[key] === undefined) delete intent[key];
  }
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: intent };
}

/** True when an object carries any graft annotation a user writes (so it is worth validating). */
export function hasGraftIntent(annotations: Record<string, string> | undefined): boolean {
  return Object.keys(annotations ?? {}).some((key) => key.startsWith(PREFIX) && !GRAFT_OWNED.has(key));
}
