/**
 * The checks spec's schema, one per check type (TypeBox, so the TypeScript types come from the
 * same source). Not loaded at run time: scripts/generate-validators.ts compiles it into
 * core/checks-validators.generated.ts (ajv's standalone code) at build time, so neither the
 * agent nor the webhook loads ajv or TypeBox, or compiles a validator, to read a checks spec.
 * Everything else imports its types only.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "./duration.js";

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

export type CheckSpec = { [K in CheckType]: Static<(typeof CHECK_SCHEMAS)[K]> }[CheckType];
export type CheckSpecOf<K extends CheckType> = Static<(typeof CHECK_SCHEMAS)[K]>;
