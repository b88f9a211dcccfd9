import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { visibleErrors } from "../../core/testdata/validators.js";
import { MODULES, modulePath, validatorModule } from "../../scripts/generate-validators.js";
import { AdmissionReviewSchema } from "./review-schema.js";
import { validateAdmissionReview } from "./review-validator.generated.js";

/** The schema compiled at run time, as review.ts did before the generated module. */
const runtime = new Ajv(MODULES.admissionReview.options).compile(AdmissionReviewSchema);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("", "x", "CREATE", "UPDATE", "DELETE", "CONNECT", "PATCH", "admission.k8s.io/v1", "v1"),
  fc.constantFrom(0, -1, 1.5, true, false, null, [], {}, { a: 1 }),
  fc.string({ maxLength: 6 }),
);

const gvk = fc.oneof(
  anyValue,
  fc.record(
    { group: anyValue, version: anyValue, kind: anyValue, resource: anyValue },
    { requiredKeys: [], noNullPrototype: true },
  ),
);

const reviews = fc.record(
  {
    apiVersion: fc.oneof(fc.constant("admission.k8s.io/v1"), anyValue),
    kind: fc.oneof(fc.constant("AdmissionReview"), anyValue),
    request: fc.oneof(
      anyValue,
      fc.record(
        {
          uid: anyValue,
          kind: gvk,
          resource: gvk,
          subResource: anyValue,
          requestKind: gvk,
          requestResource: gvk,
          requestSubResource: anyValue,
          name: anyValue,
          namespace: anyValue,
          operation: anyValue,
          userInfo: anyValue,
          object: anyValue,
          oldObject: anyValue,
          dryRun: anyValue,
          options: anyValue,
          extra: anyValue,
        },
        { requiredKeys: [], noNullPrototype: true },
      ),
    ),
    extra: anyValue,
  },
  { requiredKeys: [], noNullPrototype: true },
);

describe("webhook/pipeline/review-validator.generated.ts", () => {
  it("is what scripts/generate-validators.ts makes of review-schema.ts (npm run build)", () => {
    expect(readFileSync(modulePath(MODULES.admissionReview), "utf8"), "stale: run npm run build").toBe(
      validatorModule(MODULES.admissionReview),
    );
  });

  it("accepts, refuses and reports its first error exactly as ajv compiling the schema at run time", () => {
    fc.assert(
      fc.property(reviews, (review) => {
        expect(validateAdmissionReview(review)).toBe(runtime(review));
        expect(visibleErrors(validateAdmissionReview.errors)).toEqual(visibleErrors(runtime.errors));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it("leaves the review as it came (no defaults, no coercion)", () => {
    const review = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE" },
    };
    const before = structuredClone(review);
    expect(validateAdmissionReview(review)).toBe(true);
    expect(review).toEqual(before);
  });
});
