import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MODULES, modulePath, validatorModule } from "../scripts/generate-validators.js";
import { CHECK_SCHEMAS, type CheckType } from "./checks-schema.js";
import { CHECK_TYPES } from "./checks-spec.js";
import { CHECK_VALIDATORS } from "./checks-validators.generated.js";
import { visibleErrors as visible } from "./testdata/validators.js";

/** The same schemas compiled at run time, as core/checks.ts did before the generated module. */
const ajv = new Ajv(MODULES.checks.options);
const compiled = Object.fromEntries(
  CHECK_TYPES.map((type) => [type, ajv.compile(CHECK_SCHEMAS[type])]),
) as Record<CheckType, ReturnType<typeof ajv.compile>>;

const SAMPLES = [
  "web",
  "Bad Name",
  "30s",
  "5m",
  "500ms",
  "soon",
  "http://svc:8080/health",
  "https://[::1]:8443/",
  "ftp://x",
  "host:9092",
  "no-port",
  "10.0.0.10:53",
  "A",
  "SRV",
  "GET",
  "PUT",
  // Either side of each length limit, in code points (what maxLength counts) and UTF-16 units.
  "x".repeat(1010),
  "x".repeat(1024),
  "x".repeat(1025),
  "😀".repeat(1010),
  "😀".repeat(1025),
  "h".repeat(253),
  "h".repeat(254),
  "",
  "__proto__",
];

const anyValue = fc.oneof(
  fc.constantFrom(...SAMPLES),
  fc.string({ maxLength: 20 }),
  fc.integer({ min: -10, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 700 })), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
);

const FIELDS = [
  "name",
  "type",
  "interval",
  "timeout",
  "source",
  "url",
  "method",
  "expectStatus",
  "bodyMatch",
  "tlsExpiryWarnDays",
  "insecureSkipVerify",
  "host",
  "port",
  "hostname",
  "server",
  "recordType",
  "servers",
  "brokers",
  "roundTripTopic",
  "mode",
  "requireRunningJob",
  "restartWindow",
  "tokenEnv",
  "usernameEnv",
  "passwordEnv",
  "unknownField",
] as const;

describe("core/checks-validators.generated.ts", () => {
  it("is what scripts/generate-validators.ts makes of core/checks-schema.ts (npm run build)", () => {
    expect(readFileSync(modulePath(MODULES.checks), "utf8"), "stale: run npm run build").toBe(
      validatorModule(MODULES.checks),
    );
  });

  it("has one validator per check type, in the schema's order", () => {
    expect(Object.keys(CHECK_VALIDATORS)).toEqual(Object.keys(CHECK_SCHEMAS));
  });

  it("accepts, refuses and words its errors exactly as ajv compiling the schema at run time does", () => {
    const check = fc.record(
      {
        type: fc.constantFrom(...CHECK_TYPES),
        fields: fc.dictionary(fc.constantFrom(...FIELDS), anyValue, { maxKeys: 8 }),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(check, fc.boolean(), ({ type, fields }, typed) => {
        const item = typed ? { ...fields, type } : fields;
        const generated = CHECK_VALIDATORS[type];
        const runtime = compiled[type];
        const ok = generated(item);
        expect(ok).toBe(runtime(item));
        expect(visible(generated.errors)).toEqual(visible(runtime.errors));
      }),
      { numRuns: 3000 },
    );
  });

  it("agrees with ajv on every field of every type set to each sample value, the rest valid", () => {
    const valid: Record<string, unknown> = {
      name: "a",
      url: "http://svc:8080/",
      host: "svc",
      port: 80,
      hostname: "svc",
      servers: ["zk:2181"],
      brokers: ["kafka:9092"],
    };
    let compared = 0;
    for (const type of CHECK_TYPES) {
      const schema = CHECK_SCHEMAS[type];
      const base = Object.fromEntries([
        ["type", type],
        ...schema.required.filter((field) => field !== "type").map((field) => [field, valid[field]]),
      ]);
      expect(CHECK_VALIDATORS[type](base), `${type}: ${JSON.stringify(base)}`).toBe(true);
      for (const field of [...Object.keys(schema.properties), "unknownField"]) {
        for (const value of [
          ...SAMPLES,
          0,
          1,
          65_535,
          65_536,
          99,
          100,
          599,
          600,
          3650,
          3651,
          -1,
          1.5,
          true,
          null,
          [],
        ]) {
          const item = { ...base, [field]: value };
          const ok = CHECK_VALIDATORS[type](item);
          expect(ok, `${type}.${field} = ${JSON.stringify(value).slice(0, 40)}`).toBe(compiled[type](item));
          expect(visible(CHECK_VALIDATORS[type].errors)).toEqual(visible(ok ? [] : compiled[type].errors));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it("refuses what is not an object at all, as ajv does", () => {
    for (const value of [null, 7, "tcp", [], [{ type: "tcp" }], true]) {
      for (const type of CHECK_TYPES) {
        expect(CHECK_VALIDATORS[type](value)).toBe(false);
        expect(visible(CHECK_VALIDATORS[type].errors)).toEqual(
          visible(compiled[type](value) ? [] : compiled[type].errors),
        );
      }
    }
  });
});
