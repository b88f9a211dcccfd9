import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { visibleErrors } from "../../core/testdata/validators.js";
import { MODULES, modulePath, validatorModule } from "../../scripts/generate-validators.js";
import { WebhookConfigSchema } from "./config-schema.js";
import { validateWebhookConfig } from "./config-validator.generated.js";

/** The schema compiled at run time, as config.ts did before the generated module. */
const runtime = new Ajv(MODULES.webhookConfig.options).compile(WebhookConfigSchema);

/** Values either side of the schema's forms and limits. */
const SAMPLES = [
  "graft",
  "Bad_Name",
  "",
  "x".repeat(64),
  "10m",
  "0.5",
  "64Mi",
  "lots",
  "auto",
  "never",
  "sometimes",
  "deny",
  "warn",
  "allow",
  "http://git:8099/jupyter-{user}",
  "ftp://git/{user}",
  "http://git/no-user",
  "/home/jovyan",
  "relative/dir",
  "registry.local/graft:dev",
  "__proto__",
  0,
  1,
  20,
  50,
  51,
  1023,
  9464,
  65535,
  65536,
  3600,
  2 ** 53,
  -1,
  1.5,
  true,
  null,
];

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...SAMPLES),
  fc.array(fc.constantFrom(...SAMPLES), { maxLength: 3 }),
  fc.string({ maxLength: 8 }),
);

/** A config of known and unknown keys, two levels deep, each value anything. */
function configs(): fc.Arbitrary<Record<string, unknown>> {
  const section = (keys: readonly string[]) =>
    fc.oneof(anyValue, fc.dictionary(fc.constantFrom(...keys, "typo"), anyValue, { maxKeys: 4 }));
  return fc.record(
    {
      namespace: anyValue,
      excludedNamespaces: anyValue,
      agent: fc.oneof(
        anyValue,
        fc.record(
          {
            image: anyValue,
            port: anyValue,
            pushUrl: anyValue,
            resources: fc.oneof(
              anyValue,
              fc.record(
                { requests: section(["cpu", "memory"]), limits: section(["cpu", "memory"]) },
                { requiredKeys: [], noNullPrototype: true },
              ),
            ),
          },
          { requiredKeys: [], noNullPrototype: true },
        ),
      ),
      nativeSidecars: anyValue,
      notebooks: section([
        "repoTemplate",
        "folder",
        "waitSeconds",
        "limitSeconds",
        "maxFileBytes",
        "maxSyncBytes",
        "maxFiles",
      ]),
      properties: section(["onFailure"]),
      onError: anyValue,
      unknownKey: anyValue,
    },
    { requiredKeys: [], noNullPrototype: true },
  );
}

describe("webhook/model/config-validator.generated.ts", () => {
  it("is what scripts/generate-validators.ts makes of config-schema.ts (npm run build)", () => {
    expect(readFileSync(modulePath(MODULES.webhookConfig), "utf8"), "stale: run npm run build").toBe(
      validatorModule(MODULES.webhookConfig),
    );
  });

  it("accepts, refuses, fills defaults and words its errors exactly as ajv compiling the schema at run time", () => {
    fc.assert(
      fc.property(configs(), (config) => {
        const generated = structuredClone(config);
        const compiled = structuredClone(config);
        expect(validateWebhookConfig(generated)).toBe(runtime(compiled));
        expect(visibleErrors(validateWebhookConfig.errors)).toEqual(visibleErrors(runtime.errors));
        // useDefaults writes into the config: the same defaults, in the same places.
        expect(generated).toEqual(compiled);
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it("fills every default into an empty config, in new objects each time", () => {
    const first: Record<string, unknown> = {};
    const second: Record<string, unknown> = {};
    expect(validateWebhookConfig(first)).toBe(true);
    expect(validateWebhookConfig(second)).toBe(true);
    expect(first).toEqual(second);
    expect(first.agent).not.toBe(second.agent);
    expect(first.excludedNamespaces).not.toBe(second.excludedNamespaces);
  });
});
