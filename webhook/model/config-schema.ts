/**
 * The webhook config's schema (TypeBox): keys, forms, defaults and the wording of what each key
 * expects. Not loaded at run time: scripts/generate-validators.ts compiles it into
 * config-validator.generated.ts, and config.ts takes only its type.
 */
import { Type } from "@sinclair/typebox";
import { AGENT_PORT, AGENT_PORT_MAX, AGENT_PORT_MIN } from "../../core/agent-endpoint.js";
import {
  DEFAULT_SYNC_LIMIT_SECONDS,
  DEFAULT_SYNC_MAX_BYTES,
  DEFAULT_SYNC_MAX_FILE_BYTES,
  DEFAULT_SYNC_MAX_FILES,
  DEFAULT_SYNC_WAIT_SECONDS,
} from "./notebook-sync-limits.js";

const Quantity = Type.String({
  pattern: "^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$",
  description: 'a Kubernetes quantity such as "10m", "0.5" or "64Mi"',
});
const ResourceList = Type.Object(
  { cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) },
  { additionalProperties: false },
);
/** A string enum that ajv reports as "must be one of a, b" rather than one error per literal. */
function oneOf<const T extends readonly string[]>(values: T, defaultValue: T[number]) {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], default: defaultValue });
}

const NamespaceName = Type.String({
  pattern: "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
  description: "a namespace name",
});

export const WebhookConfigSchema = Type.Object(
  {
    /** graft's own namespace: never injected, and where `graft-platform` lives. */
    namespace: Type.String({ ...NamespaceName, default: "graft" }),
    /** Namespaces never injected, on top of kube-system, kube-public, kube-node-lease and graft's own. */
    excludedNamespaces: Type.Array(NamespaceName, { default: [] }),
    agent: Type.Object(
      {
        image: Type.String({ minLength: 1, default: "ghcr.io/graft/graft:0.1.0" }),
        /** The port graft-agent listens on; a pod's `graft.pnda.io/agent-port` wins. */
        port: Type.Integer({
          minimum: AGENT_PORT_MIN,
          maximum: AGENT_PORT_MAX,
          description: `a port number from ${AGENT_PORT_MIN} to ${AGENT_PORT_MAX}`,
          default: AGENT_PORT,
        }),
        /** Where agents push PNDA events (GRAFT_PUSH_URL); else graft-platform's `metric_logger_url`. */
        pushUrl: Type.Optional(Type.String({ pattern: "^https?://[^\\s]+$", description: "an http(s) URL" })),
        resources: Type.Object(
          {
            requests: Type.Object(ResourceList.properties, {
              additionalProperties: false,
              default: { cpu: "10m", memory: "64Mi" },
            }),
            limits: Type.Object(ResourceList.properties, {
              additionalProperties: false,
              default: { cpu: "200m", memory: "128Mi" },
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** `auto` asks the API server's version once at start-up (native sidecars: Kubernetes ≥ 1.29). */
    nativeSidecars: oneOf(["auto", "always", "never"], "auto"),
    notebooks: Type.Object(
      {
        /** http(s) only: the sync allows git no other transport (GIT_ALLOW_PROTOCOL). */
        repoTemplate: Type.String({
          pattern: "^https?://.*\\{user\\}",
          description: "an http(s) git URL containing {user}",
          default: "http://deployment-manager-git:8099/jupyter-{user}",
        }),
        folder: Type.String({
          pattern: "^/[^\\0]*$",
          description: "an absolute path",
          default: "/home/jovyan/apps-notebooks",
        }),
        /** How long a notebook container's start waits for the sync (then it goes on in the background). */
        waitSeconds: Type.Integer({
          minimum: 1,
          maximum: 50,
          description: "whole seconds, 1 to 50: under KubeSpawner's start_timeout",
          default: DEFAULT_SYNC_WAIT_SECONDS,
        }),
        /** How long one sync may run in all. */
        limitSeconds: Type.Integer({
          minimum: 1,
          maximum: 3600,
          description: "whole seconds, 1 to 3600",
          default: DEFAULT_SYNC_LIMIT_SECONDS,
        }),
        /** Larger files in the repository are not written (skipped and logged). */
        maxFileBytes: Type.Integer({
          minimum: 1,
          maximum: 2 ** 53 - 1,
          description: "bytes, at least 1",
          default: DEFAULT_SYNC_MAX_FILE_BYTES,
        }),
        /** One sync writes at most this many bytes; the rest waits for the next start. */
        maxSyncBytes: Type.Integer({
          minimum: 1,
          maximum: 2 ** 53 - 1,
          description: "bytes, at least 1",
          default: DEFAULT_SYNC_MAX_BYTES,
        }),
        /** One sync adds, updates or removes at most this many files; the rest waits for the next start. */
        maxFiles: Type.Integer({
          minimum: 1,
          maximum: 10_000_000,
          description: "files, 1 to 10000000",
          default: DEFAULT_SYNC_MAX_FILES,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    properties: Type.Object(
      {
        /** What to do when the component's properties cannot be read at admission. */
        onFailure: oneOf(["deny", "warn"], "deny"),
      },
      { additionalProperties: false, default: {} },
    ),
    /** What to do when graft itself fails on a pod (a bug): deny it with the error, or admit it untouched with a warning. */
    onError: oneOf(["deny", "allow"], "deny"),
  },
  { additionalProperties: false },
);
