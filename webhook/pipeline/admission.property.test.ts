/**
 * Properties of the admission core over generated pods: any containers, init containers and
 * native sidecars, volumes, fields graft does not know, existing annotations and keys with `~`
 * and `/`, valid and invalid graft annotations. The patch is checked with rfc6902, an RFC 6902
 * implementation independent of the one that computes it.
 */
import fc from "fast-check";
import { applyPatch } from "rfc6902";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../model/config.js";
import type { PodLike } from "../model/kube.js";
import { type AdmissionFacts, admit, injectPod } from "./admission.js";
import type { AdmissionRequest } from "./review.js";

const RUNS = { numRuns: 200 };
const config = defaultWebhookConfig();

const keyWithSeparators = fc.string({
  unit: fc.constantFrom("a", "b", "z", "0", ".", "-", "~", "/", "~0", "~1"),
  minLength: 1,
  maxLength: 12,
});
const text = fc.string({ maxLength: 20 });

const env = fc.array(
  fc.record({ name: fc.constantFrom("A", "B", "PATH", "JAVA_OPTS", "JAVA_TOOL_OPTIONS"), value: text }),
  {
    maxLength: 3,
  },
);
const unknownField = fc.option(
  fc.dictionary(keyWithSeparators, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
  {
    nil: undefined,
  },
);

const container = (names: fc.Arbitrary<string>, native: boolean) =>
  fc
    .record(
      {
        name: names,
        image: fc.constantFrom("nginx:1.27", "busybox", "apache/spark:3.5.1"),
        env,
        ports: fc.array(fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 2 }),
        futureContainerField: unknownField,
        restartPolicy: native ? fc.constant("Always") : fc.constant(undefined),
      },
      { requiredKeys: ["name", "image"] },
    )
    .map((c) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>);

const CONTAINER_NAMES = fc.constantFrom(
  "app",
  "web",
  "worker",
  "spark-kubernetes-driver",
  "notebook",
  "graft-agent",
);
const INIT_NAMES = fc.constantFrom("migrate", "istio-proxy", "log-shipper", "graft-agent");

const GRAFT_VALUES: Record<string, string[]> = {
  "graft.pnda.io/health": ["true", "false", "yes"],
  "graft.pnda.io/checks": [
    "[]",
    '[{"name":"api","type":"http","url":"http://api:8080/healthz"}]',
    "- {name: zk, type: zookeeper, servers: ['zk-0.zk:2181'], interval: 1m}",
    "[{name: api, type: http}]",
    "name: x",
  ],
  "graft.pnda.io/checks-configmap": ["shop-checks", "Bad_Name"],
  "graft.pnda.io/component-type": ["generic", "sparkStreaming", "spark"],
  "graft.pnda.io/app": ["fraud-detect", "-bad-"],
  "graft.pnda.io/component": ["scorer"],
  "graft.pnda.io/chekcs": ["[]"],
  "graft.pnda.io/status": ['{"version":"0.0.1","features":["agent"]}', "not json"],
};
const graftAnnotations = fc
  .subarray(Object.keys(GRAFT_VALUES), { maxLength: 2 })
  .chain((keys) =>
    fc.tuple(
      ...keys.map((key) => fc.constantFrom(...GRAFT_VALUES[key]!).map((value) => [key, value] as const)),
    ),
  )
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

const otherAnnotations = fc.dictionary(
  fc.oneof(keyWithSeparators, fc.constantFrom("prometheus.io/scrape", "prometheus.io/port", "a~b/c")),
  text,
  { maxKeys: 3 },
);

// Weighted towards pods graft injects, so most runs exercise the patch.
const injectLabel = fc.constantFrom(undefined, undefined, "enabled", "enabled", "disabled", "true");

const podArbitrary = fc
  .record({
    containers: fc.uniqueArray(container(CONTAINER_NAMES, false), {
      minLength: 1,
      maxLength: 4,
      selector: (c) => c.name,
    }),
    initContainers: fc.option(
      fc.uniqueArray(
        fc.boolean().chain((native) => container(INIT_NAMES, native)),
        { maxLength: 3, selector: (c) => c.name },
      ),
      { nil: undefined },
    ),
    volumes: fc.option(
      fc.uniqueArray(
        fc.record({
          name: fc.constantFrom("data", "config", "graft-agent-checks"),
          emptyDir: fc.constant({}),
        }),
        { maxLength: 3, selector: (v) => v.name },
      ),
      { nil: undefined },
    ),
    restartPolicy: fc.constantFrom(undefined, "Always", "Never", "OnFailure"),
    annotations: fc.option(fc.tuple(otherAnnotations, graftAnnotations), { nil: undefined }),
    labels: fc.option(fc.dictionary(keyWithSeparators, fc.constantFrom("a", "b"), { maxKeys: 2 }), {
      nil: undefined,
    }),
    injectLabel,
    managedFields: fc.boolean(),
    futureSpecField: unknownField,
    name: fc.option(fc.constantFrom("debug", "spark-driver"), { nil: undefined }),
  })
  .map((g) => {
    const labels = { ...g.labels, ...(g.injectLabel ? { "graft.pnda.io/inject": g.injectLabel } : {}) };
    const metadata: Record<string, unknown> = g.name ? { name: g.name } : { generateName: "web-7d9f-" };
    if (g.labels || g.injectLabel) metadata.labels = labels;
    if (g.annotations) metadata.annotations = { ...g.annotations[0], ...g.annotations[1] };
    if (g.managedFields) metadata.managedFields = [{ manager: "kubectl", operation: "Update", fieldsV1: {} }];
    const spec: Record<string, unknown> = { containers: g.containers };
    if (g.initContainers) spec.initContainers = g.initContainers;
    if (g.volumes) spec.volumes = g.volumes;
    if (g.restartPolicy) spec.restartPolicy = g.restartPolicy;
    if (g.futureSpecField) spec.futureSpecField = g.futureSpecField;
    return JSON.parse(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata, spec })) as PodLike &
      Record<string, unknown>;
  });

const factsArbitrary = fc.record({
  nativeSidecars: fc.boolean(),
  namespaceOptIn: fc.constantFrom(true, true, true, false),
  namespace: fc.oneof({ arbitrary: fc.constant("shop"), weight: 8 }, fc.constantFrom("kube-system", "graft")),
});

function podRequest(pod: object, namespace: string): AdmissionRequest {
  return {
    uid: "u",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace,
    operation: "CREATE",
    object: pod as Record<string, unknown>,
  };
}

/** Frozen all the way down: a renderer that changes the received pod in place throws. */
function deepFrozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFrozen(child);
    Object.freeze(value);
  }
  return value;
}

function applied(pod: object, patch: unknown[]): object {
  const copy = structuredClone(pod);
  const results = applyPatch(copy, patch as Parameters<typeof applyPatch>[1]);
  expect(results.filter((result) => result !== null)).toEqual([]);
  return copy;
}

describe("admission properties", () => {
  it("never fails inside graft, never changes the pod received; an admitted pod's patch applies cleanly and yields exactly the planned pod", () => {
    fc.assert(
      fc.property(podArbitrary, factsArbitrary, (pod, { namespace, ...rest }) => {
        const facts: AdmissionFacts = { config, ...rest };
        const before = structuredClone(pod);
        const decision = admit(podRequest(deepFrozen(pod), namespace), facts);
        expect(decision.code).not.toBe(500);
        expect(pod).toEqual(before);
        if (!decision.allowed) {
          expect(decision.patch).toEqual([]);
          expect(decision.message).toMatch(/^graft cannot admit pod /);
          return;
        }
        const injection = injectPod(pod, namespace, facts);
        const expected = injection.kind === "injected" ? injection.pod : pod;
        expect(applied(pod, decision.patch)).toEqual(expected);
      }),
      RUNS,
    );
  });

  it("a second pass over an injected pod (reinvocation) yields an empty patch", () => {
    fc.assert(
      fc.property(podArbitrary, factsArbitrary, (pod, { namespace, ...rest }) => {
        const facts: AdmissionFacts = { config, ...rest };
        const first = admit(podRequest(pod, namespace), facts);
        fc.pre(first.allowed);
        const injected = applied(pod, first.patch);
        const second = admit(podRequest(deepFrozen(injected), namespace), facts);
        expect(second.allowed).toBe(true);
        expect(second.patch).toEqual([]);
        expect(second.warnings).toEqual(first.warnings);
      }),
      RUNS,
    );
  });

  it("a pod that did not opt in gets no patch", () => {
    fc.assert(
      fc.property(podArbitrary, fc.boolean(), (pod, nativeSidecars) => {
        const labels = pod.metadata?.labels ?? {};
        delete labels["graft.pnda.io/inject"];
        const decision = admit(podRequest(pod, "shop"), { config, nativeSidecars, namespaceOptIn: false });
        expect(decision).toMatchObject({ allowed: true, patch: [], create: [] });
      }),
      RUNS,
    );
  });

  it("a pod labelled disabled, or in an excluded namespace, gets no patch", () => {
    fc.assert(
      fc.property(
        podArbitrary,
        fc.constantFrom("kube-system", "kube-public", "kube-node-lease", "graft"),
        (pod, ns) => {
          expect(
            admit(podRequest(pod, ns), { config, nativeSidecars: true, namespaceOptIn: true }).patch,
          ).toEqual([]);
          pod.metadata = {
            ...pod.metadata,
            labels: { ...pod.metadata?.labels, "graft.pnda.io/inject": "disabled" },
          };
          expect(
            admit(podRequest(pod, "shop"), { config, nativeSidecars: true, namespaceOptIn: true }).patch,
          ).toEqual([]);
        },
      ),
      RUNS,
    );
  });
});
