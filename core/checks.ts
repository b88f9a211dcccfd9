/**
 * The checks spec: one schema shared by the agent (start-up) and the webhook (admission), so a
 * spec the webhook admits is a spec the agent runs. Validate once here, trust the result inside.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { Composer, type CST, isAlias, isCollection, isNode, isPair, isScalar, Parser } from "yaml";
import { DURATION_PATTERN, parseDuration } from "./duration.js";
import { nestingDepth } from "./limits.js";
import type { Result } from "./result.js";
import { describeSchemaError } from "./schema-errors.js";

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
    /** `streaming`: a driver whose application must be running with batches keeping up. */
    mode: Type.Optional(
      Type.Union([Type.Literal("driver"), Type.Literal("master"), Type.Literal("streaming")]),
    ),
  }),
  flink: check("flink", {
    url: Url,
    /** No RUNNING job is ERROR (a streaming job's own JobManager). */
    requireRunningJob: Type.Optional(Type.Boolean()),
    /** A job whose restart count went up within this long is WARN (default 5m). */
    restartWindow: Type.Optional(Duration),
  }),
  jupyterhub: check("jupyterhub", { url: Url, tokenEnv: Type.Optional(EnvVarName) }),
  hdfs: check("hdfs", { url: Url }),
  hbase: check("hbase", { url: Url }),
  hive: check("hive", {
    host: Host,
    port: Type.Optional(Port),
    usernameEnv: Type.Optional(EnvVarName),
    passwordEnv: Type.Optional(EnvVarName),
  }),
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

/** The checks, resolved; or every error found (each naming the check and the field). */
export type ChecksResult = Result<ResolvedCheck[], string[]>;

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

export type YamlScan = { flowCollections: number; tokens: number };

const CR = 0x0d;
const LF = 0x0a;
const FLOW = new Set([0x5b, 0x5d, 0x7b, 0x7d, 0x2c]); // [ ] { } ,
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const QUOTES = new Set([0x22, 0x27]); // " '
const INDICATORS = new Set([0x2d, 0x3f, 0x3a]); // - ? :
const NODE_START = new Set([0x23, 0x26, 0x2a, 0x21, 0x7c, 0x3e, 0x25, 0x40, 0x60]); // # & * ! | > % @ `

/** Space, tab, a line break, or past the end of the text (NaN). */
function isBlank(code: number): boolean {
  return Number.isNaN(code) || code === 0x20 || code === 0x09 || code === CR || code === LF;
}

/**
 * One linear pass over YAML text, before the YAML parser sees it, that bounds from above what the
 * parser would do with it: every "[" and "{" is counted, quoted ones too (so no quoting trick
 * can hide one), and tokens, what the parser's time grows with, by their first character.
 */
export function scanYaml(text: string): YamlScan {
  let flowCollections = 0;
  let tokens = 1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF || code === CR) tokens++;
    else if (FLOW.has(code) || QUOTES.has(code)) {
      tokens++;
      if (OPENERS.has(code)) flowCollections++;
    } else if (INDICATORS.has(code) && (isBlank(text.charCodeAt(i + 1)) || FLOW.has(text.charCodeAt(i + 1))))
      tokens++;
    else if (NODE_START.has(code) && (i === 0 || isBlank(text.charCodeAt(i - 1)))) tokens++;
  }
  return { flowCollections, tokens };
}

function yamlLimitError(scan: YamlScan): string | undefined {
  const { yamlFlowCollections, yamlTokens } = CHECKS_LIMITS;
  if (scan.flowCollections > yamlFlowCollections) {
    return `YAML with more than ${yamlFlowCollections} "[" and "{" (quoted ones count too) is refused, this has ${scan.flowCollections}: write the spec as JSON, or in block style`;
  }
  if (scan.tokens > yamlTokens) {
    return `YAML with more than ${yamlTokens} tokens (lines, commas, quotes, brackets, indicators) is refused, this has ${scan.tokens}: write the spec as JSON`;
  }
  return undefined;
}

/**
 * How deeply the YAML parser's syntax tree nests collections, counted without recursion and never
 * past `limit + 1`. The parser builds the tree with a stack of its own; the composer, which turns
 * it into values, recurses once per level: measured here, between the two.
 */
function syntaxDepth(tokens: readonly CST.Token[], limit: number): number {
  let deepest = 0;
  const pending: Array<[CST.Token | null | undefined, number]> = tokens.map((token) => [token, 0]);
  while (pending.length > 0) {
    const [token, depth] = pending.pop()!;
    if (!token) continue;
    if (token.type === "document") pending.push([token.value, depth]);
    else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      const level = depth + 1;
      if (level > deepest) deepest = level;
      if (deepest > limit) return deepest;
      for (const item of token.items as CST.CollectionItem[])
        pending.push([item.key, level], [item.value, level]);
    }
  }
  return deepest;
}

function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * What the YAML parser built, checked without recursion: no aliases (a billion laughs expands
 * from a few of them), anchors or tags, map keys that are plain scalars and unique, and no deeper
 * than the spec needs.
 */
function yamlNodeError(contents: unknown): string | undefined {
  const pending: Array<[unknown, number]> = [[contents, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || node === undefined) continue;
    if (isAlias(node)) return `aliases (*${node.source}) are not allowed`;
    if (!isNode(node)) continue;
    if (node.anchor) return `anchors (&${node.anchor}) are not allowed`;
    if (node.tag) return `tags (${node.tag}) are not allowed`;
    if (!isCollection(node)) continue;
    if (depth + 1 > CHECKS_LIMITS.depth) return nestedTooDeep();
    const keys = new Set<unknown>();
    const children: Array<[unknown, number]> = [];
    for (const item of node.items) {
      if (isPair(item)) {
        if (item.key !== null && !isScalar(item.key)) return "map keys must be scalars, not lists or maps";
        const key = isScalar(item.key) ? item.key.value : null;
        if (keys.has(key)) return `duplicate key ${JSON.stringify(key)}`;
        keys.add(key);
        children.push([item.key, depth + 1], [item.value, depth + 1]);
      } else children.push([item, depth + 1]);
    }
    // Reversed onto the stack, so the first problem in the text is the one reported.
    pending.push(...children.reverse());
  }
  return undefined;
}

function nestedTooDeep(): string {
  return `lists and maps nested more than ${CHECKS_LIMITS.depth} levels deep are refused (a spec needs 3)`;
}

/**
 * JSON is YAML, but the YAML parser is ten times slower on it (and recurses), and the webhook sees
 * the same JSON (GRAFT_CHECKS, most annotations) at every admission: take the fast path when it
 * parses (JSON.parse does not recurse). YAML is parsed only within the limits above.
 */
function parseChecksText(text: string): Result<unknown> {
  if (text.length > CHECKS_LIMITS.length) {
    return {
      ok: false,
      error: `the spec is ${text.length} characters long, at most ${CHECKS_LIMITS.length} are read`,
    };
  }
  if (/^\s*\[/.test(text)) {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      // Flow-style YAML such as [{name: a, type: tcp}]: the YAML parser reads it.
    }
  }
  const limit = yamlLimitError(scanYaml(text));
  if (limit) return { ok: false, error: limit };
  const tokens = Array.from(new Parser().parse(text));
  if (syntaxDepth(tokens, CHECKS_LIMITS.depth) > CHECKS_LIMITS.depth)
    return { ok: false, error: nestedTooDeep() };
  const documents = Array.from(
    new Composer({
      version: "1.2",
      schema: "core",
      merge: false,
      // Checked below in one linear pass; the parser's own check compares every pair of keys.
      uniqueKeys: false,
      // Only the first error is shown, and making each one pretty costs more than parsing.
      prettyErrors: false,
    }).compose(tokens, true, text.length),
  );
  const document = documents[0]!;
  if (documents.length > 1) return { ok: false, error: "expected one YAML document, found more" };
  const [error] = document.errors;
  if (error) {
    const message = error.message.split("\n")[0];
    return { ok: false, error: `not valid YAML or JSON: ${message} at ${position(text, error.pos[0])}` };
  }
  if (document.directives?.yaml.explicit) return { ok: false, error: "YAML directives are not allowed" };
  const refused = yamlNodeError(document.contents);
  if (refused) return { ok: false, error: refused };
  return { ok: true, value: document.toJS({ maxAliasCount: 0 }) };
}

/**
 * Parses a checks spec given as YAML or JSON text (or already parsed), validating every check.
 * Errors name the check and the field, so they can be shown to whoever wrote the annotation.
 */
export function parseChecksSpec(input: unknown): ChecksResult {
  let raw = input;
  if (typeof input === "string") {
    const parsed = parseChecksText(input);
    if (!parsed.ok) return { ok: false, error: [parsed.error] };
    raw = parsed.value;
  }
  if (nestingDepth(raw, CHECKS_LIMITS.depth) > CHECKS_LIMITS.depth) {
    return { ok: false, error: [nestedTooDeep()] };
  }
  if (!Array.isArray(raw)) return { ok: false, error: ["expected a list of checks"] };
  if (raw.length > MAX_CHECKS)
    return { ok: false, error: [`at most ${MAX_CHECKS} checks, got ${raw.length}`] };

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
      for (const error of validate.errors ?? []) errors.push(`${where}: ${describeSchemaError(error)}`);
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
  if (errors.length > CHECKS_LIMITS.errors) {
    const more = errors.length - CHECKS_LIMITS.errors;
    errors.splice(CHECKS_LIMITS.errors, more, `… and ${more} more errors`);
  }
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: checks };
}
