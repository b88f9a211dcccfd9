/**
 * The checks spec: one schema shared by the agent (start-up) and the webhook (admission), so a
 * spec the webhook admits is a spec the agent runs. Validate once here, trust the result inside.
 *
 * This module reads a spec that is JSON text or already parsed, with the validators generated
 * from core/checks-schema.ts at build time: it loads neither ajv, TypeBox nor the YAML parser,
 * so the agent, whose checks arrive as JSON (GRAFT_CHECKS), starts without them. YAML text is
 * read by core/checks.ts, which adds the YAML parser to this.
 */
import type { CheckSpec, CheckType } from "./checks-schema.js";
import { CHECK_VALIDATORS } from "./checks-validators.generated.js";
import { parseDuration } from "./duration.js";
import { nestingDepth } from "./limits.js";
import type { Result } from "./result.js";
import { describeSchemaError } from "./schema-errors.js";

export type { CheckSpec, CheckSpecOf, CheckType } from "./checks-schema.js";

export const CHECK_TYPES = Object.keys(CHECK_VALIDATORS) as CheckType[];

/** A check as written, with its source (its name unless it names one): what GRAFT_CHECKS carries. */
export type SourcedCheck = CheckSpec & { source: string };

/** A check with its defaults applied and durations in milliseconds. */
export type ResolvedCheck = SourcedCheck & { intervalMs: number; timeoutMs: number };

export const DEFAULT_INTERVAL = "30s";
export const DEFAULT_TIMEOUT = "5s";
const DEFAULT_INTERVAL_MS = parseDuration(DEFAULT_INTERVAL)!;
const DEFAULT_TIMEOUT_MS = parseDuration(DEFAULT_TIMEOUT)!;
export const MAX_CHECKS = 64;

/** The checks, resolved; or every error found (each naming the check and the field). */
export type ChecksResult = Result<ResolvedCheck[], string[]>;

/** The checks as written (with their sources); or every error found. */
export type SourcedChecksResult = Result<SourcedCheck[], string[]>;

const intervalMsOf = (spec: CheckSpec) =>
  spec.interval === undefined ? DEFAULT_INTERVAL_MS : parseDuration(spec.interval)!;
const timeoutMsOf = (spec: CheckSpec) =>
  spec.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(spec.timeout)!;

function label(raw: unknown, index: number): string {
  const name =
    typeof raw === "object" && raw !== null && "name" in raw ? (raw as { name: unknown }).name : undefined;
  return typeof name === "string" ? `check "${name}"` : `check #${index + 1}`;
}

/**
 * Limits on a checks spec given as text, applied before any parser runs: the annotation, the
 * agent's GRAFT_CHECKS and its checks file are written by whoever deploys an app, and the webhook
 * parses them at every admission. A spec of 64 checks needs far less than any of them.
 */
export const CHECKS_LIMITS = {
  /** Characters of text. */
  length: 65_536,
  /** Levels of lists and maps; the schema uses 3 (list of checks, check, list of values). */
  depth: 4,
  /**
   * YAML only (JSON has no such limit): "[" and "{" anywhere in the text, quoted ones included,
   * counted before the YAML parser runs. Its composer recurses once per level, and V8 aborted the
   * process (not an exception) compiling a regular expression near the end of the stack when
   * 1,000 levels were nested.
   */
  yamlFlowCollections: 256,
  /**
   * YAML only: lines, commas, quotes, brackets and indicators, counted before the YAML parser
   * runs, which spends ~10-30 µs on each (more on an error). 64 checks need ~2,000.
   */
  yamlTokens: 4096,
  /** Errors reported; the rest are counted. */
  errors: 20,
} as const;

export function nestedTooDeep(): string {
  return `lists and maps nested more than ${CHECKS_LIMITS.depth} levels deep are refused (a spec needs 3)`;
}

/**
 * The spec's text parsed as JSON, when it is JSON: undefined when it is not (YAML, which
 * core/checks.ts reads). JSON is YAML, but the YAML parser is ten times slower on it (and
 * recurses), and the webhook sees the same JSON (GRAFT_CHECKS, most annotations) at every
 * admission; JSON.parse does not recurse.
 */
export function parseJsonText(text: string): Result<unknown> | undefined {
  if (text.length > CHECKS_LIMITS.length) {
    return {
      ok: false,
      error: `the spec is ${text.length} characters long, at most ${CHECKS_LIMITS.length} are read`,
    };
  }
  if (!/^\s*\[/.test(text)) return undefined;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Flow-style YAML such as [{name: a, type: tcp}]: the YAML parser reads it.
    return undefined;
  }
}

/**
 * A checks spec given as JSON text or already parsed, validated check by check; undefined for
 * text that is not JSON (core/checks.ts's parseChecksSpec reads YAML too).
 */
export function parseChecksJson(input: unknown): ChecksResult | undefined {
  if (typeof input !== "string") return validateChecks(input);
  const parsed = parseJsonText(input);
  if (parsed === undefined) return undefined;
  return parsed.ok ? validateChecks(parsed.value) : { ok: false, error: [parsed.error] };
}

/**
 * Validates a parsed checks spec, every check, and resolves it (defaults, durations in ms): what
 * the agent runs. Errors name the check and the field, so they can be shown to whoever wrote the
 * annotation.
 */
export function validateChecks(raw: unknown): ChecksResult {
  return resolveChecks(validateChecksAsWritten(raw));
}

/** Checks validated as written (validateChecksAsWritten), with their defaults applied; errors as they are. */
export function resolveChecks(checks: SourcedChecksResult): ChecksResult {
  if (!checks.ok) return checks;
  return {
    ok: true,
    value: checks.value.map((check) => ({
      ...check,
      intervalMs: intervalMsOf(check),
      timeoutMs: timeoutMsOf(check),
    })),
  };
}

/**
 * Validates a parsed checks spec, every check, and returns the checks as written with their
 * sources: what the webhook passes on to the agent (which resolves them itself), made in one
 * copy of each check.
 */
export function validateChecksAsWritten(raw: unknown): SourcedChecksResult {
  if (nestingDepth(raw, CHECKS_LIMITS.depth) > CHECKS_LIMITS.depth) {
    return { ok: false, error: [nestedTooDeep()] };
  }
  if (!Array.isArray(raw)) return { ok: false, error: ["expected a list of checks"] };
  if (raw.length > MAX_CHECKS)
    return { ok: false, error: [`at most ${MAX_CHECKS} checks, got ${raw.length}`] };

  const errors: string[] = [];
  const checks: SourcedCheck[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const type = typeof item === "object" && item !== null ? (item as { type?: unknown }).type : undefined;
    if (typeof type !== "string" || !Object.hasOwn(CHECK_VALIDATORS, type)) {
      errors.push(`${label(item, index)}: field "type" must be one of ${CHECK_TYPES.join(", ")}`);
      return;
    }
    const validate = CHECK_VALIDATORS[type as CheckType];
    if (!validate(item)) {
      for (const error of validate.errors ?? [])
        errors.push(`${label(item, index)}: ${describeSchemaError(error)}`);
      return;
    }
    const spec = item as CheckSpec;
    if (seen.has(spec.name)) {
      errors.push(`${label(item, index)}: duplicate name`);
      return;
    }
    seen.add(spec.name);
    if (timeoutMsOf(spec) >= intervalMsOf(spec)) {
      errors.push(
        `${label(item, index)}: field "timeout" (${spec.timeout ?? DEFAULT_TIMEOUT}) must be shorter than "interval"`,
      );
      return;
    }
    checks.push({ ...spec, source: spec.source ?? spec.name });
  });
  if (errors.length > CHECKS_LIMITS.errors) {
    const more = errors.length - CHECKS_LIMITS.errors;
    errors.splice(CHECKS_LIMITS.errors, more, `… and ${more} more errors`);
  }
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: checks };
}
