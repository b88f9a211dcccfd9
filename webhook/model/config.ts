/**
 * The webhook's configuration file (`graft webhook --config F`, `graft inject --config F`): one
 * schema (config-schema.ts), defaults applied, unknown keys rejected so a typo is an error and not
 * a silent default.
 */
import type { Static } from "@sinclair/typebox";
import { parse as parseYaml } from "yaml";
import { errorMessage } from "../../core/result.js";
import { describeSchemaError } from "../../core/schema-errors.js";
import type { WebhookConfigSchema } from "./config-schema.js";
import { validateWebhookConfig as validate } from "./config-validator.generated.js";

export type WebhookConfig = Static<typeof WebhookConfigSchema>;

/** Defaults known only at run time, used where the file sets nothing. */
export type RuntimeDefaults = {
  /** The webhook's own image (webhook/io/own-image.ts): the agent's unless `agent.image` is set. */
  agentImage?: string;
};

/**
 * Parses and validates the webhook config (YAML or JSON text; `undefined` or empty means all
 * defaults). Throws an Error whose message lists every problem, naming the key.
 */
export function loadWebhookConfig(text: string | undefined, defaults: RuntimeDefaults = {}): WebhookConfig {
  let raw: unknown = {};
  if (text !== undefined && text.trim() !== "") {
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw new Error(`webhook config is not valid YAML: ${errorMessage(error).split("\n")[0]}`);
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("webhook config must be a YAML mapping of keys such as namespace, agent, nativeSidecars");
  }
  const config = structuredClone(raw) as { agent?: { image?: unknown } };
  if (defaults.agentImage !== undefined && (config.agent === undefined || typeof config.agent === "object")) {
    config.agent = { ...config.agent, image: config.agent?.image ?? defaults.agentImage };
  }
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map(describeSchemaError);
    throw new Error(`invalid webhook config: ${problems.join("; ")}`);
  }
  const { waitSeconds, limitSeconds } = (config as WebhookConfig).notebooks;
  if (limitSeconds < waitSeconds) {
    throw new Error(
      `invalid webhook config: "notebooks.limitSeconds" (${limitSeconds}) must be at least "notebooks.waitSeconds" (${waitSeconds})`,
    );
  }
  return config as WebhookConfig;
}

/** The configuration used when no file is given. */
export function defaultWebhookConfig(): WebhookConfig {
  return loadWebhookConfig(undefined);
}
