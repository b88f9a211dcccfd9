/**
 * For the tests of the generated validators (scripts/generate-validators.ts): what a caller can
 * see of ajv's errors, so a generated validator and a run-time compile can be compared.
 */
import type { ErrorObject } from "ajv";
import { describeSchemaError } from "../schema-errors.js";

/** Each error as a caller sees it, the schema objects compared by what they say. */
export function visibleErrors(errors: ErrorObject[] | null | undefined) {
  return (errors ?? []).map((error) => ({
    instancePath: error.instancePath,
    schemaPath: error.schemaPath,
    keyword: error.keyword,
    params: error.params,
    message: error.message,
    schema: JSON.stringify(error.schema),
    parentSchema: JSON.stringify(error.parentSchema),
    data: error.data,
    described: describeSchemaError(error),
  }));
}
