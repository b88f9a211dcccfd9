import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { admit } from "./admission.js";
import { defaultWebhookConfig } from "./config.js";
import type { AdmissionFacts } from "./facts.js";
import type { AdmissionRequest } from "./review.js";

const facts: AdmissionFacts = { config: defaultWebhookConfig(), nativeSidecars: true, namespaceOptIn: true };

function podRequest(pod: object, namespace = "apps"): AdmissionRequest {
  return {
    uid: "u1",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace,
    operation: "CREATE",
    object: pod,
  };
}

describe("admit", () => {
  it("injects the agent into an opted-in pod and a second pass changes nothing", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { generateName: "web-" },
      spec: { containers: [{ name: "web", image: "nginx" }] },
    };
    const first = admit(podRequest(pod), facts);
    expect(first.allowed).toBe(true);
    expect(first.patch.length).toBeGreaterThan(0);
    const patched = structuredClone(pod);
    expect(applyPatch(patched, first.patch as Parameters<typeof applyPatch>[1]).every((e) => e === null)).toBe(true);
    const second = admit(podRequest(patched), facts);
    expect(second.patch).toEqual([]);
  });
});
