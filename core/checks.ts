/**
 * The checks spec: one schema shared by the agent (start-up) and the webhook (admission), so a
 * spec the webhook admits is a spec the agent runs. Validate once here, trust the result inside.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Ajv, type ErrorObject } from "ajv";
import { parse as parseYaml } from "yaml";
import { DURATION_PATTERN, parseDuration } from "./duration.js";

const Duration = Type.String({ pattern: DURATION_PATTERN, description: 'e.g. "500ms", "30s", "5m"' });
const Url = Type.String({ pattern: "^https?://[^\\s]+$", description: "an http(s) URL" });
const HostPort = Type.String({ pattern: "^[A-Za-z0-9.\\-\\[\\]:]+:[0-9]{1,5}$", description: "host:port" });
const Host = Type.String({ pattern: "^[A-Za-z0-9.\\-\\[\\]:]+$", minLength: 1, maxLength: 253 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/** A resolver is named by address: the agent cannot look up the server it would look names up with. */
const DnsServer = Type.String({
  pattern: "^([0-9]{1,3}(\\.[0-9]{1,3}){3}|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$",
  description: 'an IP address with an optional port: "10.0.0.10", "127.0.0.1:5353", "[::1]:53"',
});
/** Secrets never travel in the spec itself: name the env var (from a Secret) that holds them. */
const EnvVarName = Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$", maxLength: 128 });

const common = {
  name: Type.String({
    pattern: "^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$",
    description: "a DNS-label-like name",
  }),
  interval: Type.Optional(Duration),
  timeout: Type.Optional(Duration),
  /** PNDA source name reported in /status (metric `<source>.health`); defaults to the check's name. */
  source: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,128}$" })),
};

function check<T extends string, P extends Record<string, TSchema>>(type: T, params: P) {
  return Type.Object({ ...common, type: Type.Literal(type), ...params }, { additionalProperties: false });
}

export const CHECK_SCHEMAS = {
  http: check("http", {
    url: Url,
    method: Type.Optional(Type.Union([Type.Literal("GET"), Type.Literal("HEAD")])),
    expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 })),
    bodyMatch: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: "text the response body must contain" }),
    ),
    tlsExpiryWarnDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    insecureSkipVerify: Type.Optional(Type.Boolean()),
  }),
  tcp: check("tcp", { host: Host, port: Port }),
  dns: check("dns", {
    hostname: Host,
    server: Type.Optional(DnsServer),
    recordType: Type.Optional(
      Type.Union([Type.Literal("A"), Type.Literal("AAAA"), Type.Literal("SRV"), Type.Literal("CNAME")]),
    ),
  }),
  zookeeper: check("zookeeper", { servers: Type.Array(HostPort, { minItems: 1, maxItems: 32 }) }),
  kafka: check("kafka", {
    brokers: Type.Array(HostPort, { minItems: 1, maxItems: 32 }),
    roundTripTopic: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9._-]{1,249}$" })),
  }),
  spark: check("spark", {
    url: Url,
    mode: Type.Optional(Type.Union([Type.Literal("driver"), Type.Literal("master")])),
  }),
  flink: check("flink", { url: Url }),
  jupyterhub: check("jupyterhub", { url: Url, tokenEnv: Type.Optional(EnvVarName) }),
  hdfs: check("hdfs", { url: Url }),
  elasticsearch: check("elasticsearch", {
    url: Url,
    usernameEnv: Type.Optional(EnvVarName),
    passwordEnv: Type.Optional(EnvVarName),
  }),
  redis: check("redis", { host: Host, port: Type.Optional(Port), passwordEnv: Type.Optional(EnvVarName) }),
  rabbitmq: check("rabbitmq", {
    url: Url,
    usernameEnv: Type.Optional(EnvVarName),
    passwordEnv: Type.Optional(EnvVarName),
  }),
  opentsdb: check("opentsdb", { url: Url }),
  "deployment-manager": check("deployment-manager", { url: Url }),
} as const;

export type CheckType = keyof typeof CHECK_SCHEMAS;
export const CHECK_TYPES = Object.keys(CHECK_SCHEMAS) as CheckType[];

export type CheckSpec = { [K in CheckType]: Static<(typeof CHECK_SCHEMAS)[K]> }[CheckType];
export type CheckSpecOf<K extends CheckType> = Static<(typeof CHECK_SCHEMAS)[K]>;

/** A check with its defaults applied and durations in milliseconds. */
export type ResolvedCheck = CheckSpec & { intervalMs: number; timeoutMs: number; source: string };

export const DEFAULT_INTERVAL = "30s";
export const DEFAULT_TIMEOUT = "5s";
export const MAX_CHECKS = 64;

export type ChecksResult = { ok: true; checks: ResolvedCheck[] } | { ok: false; errors: string[] };

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
type Validator = ReturnType<typeof ajv.compile>;
const validators = new Map<CheckType, Validator>();

/** Compiled on first use: the agent in each pod compiles only the types its checks use. */
function validatorFor(type: CheckType): Validator {
  let validate = validators.get(type);
  if (!validate) {
    validate = ajv.compile(CHECK_SCHEMAS[type]);
    validators.set(type, validate);
  }
  return validate;
}

function describeError(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
  if (error.keyword === "additionalProperties") {
    return `unknown field "${String(error.params.additionalProperty)}"`;
  }
  if (error.keyword === "required") return `missing field "${String(error.params.missingProperty)}"`;
  const expected = error.parentSchema?.description ? ` (${error.parentSchema.description})` : "";
  return `field "${field}" ${error.message ?? "is invalid"}${expected}`;
}

function label(raw: unknown, index: number): string {
  const name =
    typeof raw === "object" && raw !== null && "name" in raw ? (raw as { name: unknown }).name : undefined;
  return typeof name === "string" ? `check "${name}"` : `check #${index + 1}`;
}

/**
 * JSON is YAML, but the YAML parser is ten times slower on it, and the webhook sees the same
 * JSON (GRAFT_CHECKS, most annotations) at every admission: take the fast path when it parses.
 */
function parseYamlOrJson(text: string): unknown {
  if (/^\s*\[/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Flow-style YAML such as [{name: a, type: tcp}]: the YAML parser reads it.
    }
  }
  return parseYaml(text);
}

/**
 * Parses a checks spec given as YAML or JSON text (or already parsed), validating every check.
 * Errors name the check and the field, so they can be shown to whoever wrote the annotation.
 */
export function parseChecksSpec(input: unknown): ChecksResult {
  let raw = input;
  if (typeof input === "string") {
    try {
      raw = parseYamlOrJson(input);
    } catch (error) {
      return { ok: false, errors: [`not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`] };
    }
  }
  if (!Array.isArray(raw)) return { ok: false, errors: ["expected a list of checks"] };
  if (raw.length > MAX_CHECKS)
    return { ok: false, errors: [`at most ${MAX_CHECKS} checks, got ${raw.length}`] };

  const errors: string[] = [];
  const checks: ResolvedCheck[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const where = label(item, index);
    const type = typeof item === "object" && item !== null ? (item as { type?: unknown }).type : undefined;
    if (typeof type !== "string" || !(type in CHECK_SCHEMAS)) {
      errors.push(`${where}: field "type" must be one of ${CHECK_TYPES.join(", ")}`);
      return;
    }
    const validate = validatorFor(type as CheckType);
    if (!validate(item)) {
      for (const error of validate.errors ?? []) errors.push(`${where}: ${describeError(error)}`);
      return;
    }
    const spec = item as CheckSpec;
    if (seen.has(spec.name)) {
      errors.push(`${where}: duplicate name`);
      return;
    }
    seen.add(spec.name);
    const intervalMs = parseDuration(spec.interval ?? DEFAULT_INTERVAL)!;
    const timeoutMs = parseDuration(spec.timeout ?? DEFAULT_TIMEOUT)!;
    if (timeoutMs >= intervalMs) {
      errors.push(
        `${where}: field "timeout" (${spec.timeout ?? DEFAULT_TIMEOUT}) must be shorter than "interval"`,
      );
      return;
    }
    checks.push({ ...spec, intervalMs, timeoutMs, source: spec.source ?? spec.name });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, checks };
}
