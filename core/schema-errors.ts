/**
 * How a JSON-schema (ajv) error reads, the same for the webhook's config, the checks spec and the
 * AdmissionReview: the field by its dotted path, what is wrong, and the form expected when the
 * schema describes it.
 */
import type { ErrorObject } from "ajv";

/**
 * A generated validator (ajv standalone code, scripts/generate-validators.ts): true, or false with
 * its errors as ajv's.
 */
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export function describeSchemaError(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
  const inField = (name: string) => (field ? `${field}.${name}` : name);
  switch (error.keyword) {
    case "additionalProperties":
      return `unknown field "${inField(String(error.params.additionalProperty))}"`;
    case "required":
      return `missing field "${inField(String(error.params.missingProperty))}"`;
    case "const":
      return `field "${field}" must be "${String(error.params.allowedValue)}"`;
    case "enum":
      return `field "${field}" must be one of ${(error.params.allowedValues as unknown[]).join(", ")}`;
  }
  const expected = error.parentSchema?.description ? ` (${error.parentSchema.description})` : "";
  return `field "${field}" ${error.message ?? "is invalid"}${expected}`;
}
