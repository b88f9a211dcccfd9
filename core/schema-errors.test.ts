import { Type } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { describeSchemaError } from "./schema-errors.js";

const schema = Type.Object(
  {
    kind: Type.Literal("AdmissionReview"),
    mode: Type.Unsafe<string>({ type: "string", enum: ["auto", "never"] }),
    spec: Type.Object(
      { port: Type.Integer({ maximum: 65535, description: "a TCP port" }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const validate = new Ajv({ allErrors: true, strict: true, verbose: true }).compile(schema);
const errors = (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map(describeSchemaError));

describe("describeSchemaError: one wording for every schema graft validates", () => {
  it("names the field by its dotted path, what is wrong and the form the schema describes", () => {
    expect(
      errors({ kind: "Pod", mode: "sometimes", spec: { port: 70000, porrt: 1 }, extra: 1 }).sort(),
    ).toEqual(
      [
        'field "kind" must be "AdmissionReview"',
        'field "mode" must be one of auto, never',
        'field "spec.port" must be <= 65535 (a TCP port)',
        'unknown field "spec.porrt"',
        'unknown field "extra"',
      ].sort(),
    );
    expect(errors({ kind: "AdmissionReview", mode: "auto", spec: {} })).toEqual([
      'missing field "spec.port"',
    ]);
  });
});
