import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../model/facts.js";
import type { PodLike } from "../model/kube.js";
import { injectPod } from "./admission.js";

/** Frozen all the way down: a renderer that changes the pod it is given in place throws. */
function deepFrozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFrozen(child);
    Object.freeze(value);
  }
  return value;
}

const facts: AdmissionFacts = {
  config: defaultWebhookConfig(),
  nativeSidecars: true,
  namespaceOptIn: true,
  properties: { platform: new Map([["kafka_brokers", "kafka:9092"]]), configMaps: new Map() },
};

/** A Jupyter pod that asks for every feature: properties, notebook sync and the agent. */
function everyFeaturePod(): PodLike {
  const pod = withoutPropertiesPod();
  pod.metadata!.annotations!["graft.pnda.io/properties"] = "true";
  return pod;
}

/** The same pod without properties, so notebook sync is the first to change its container. */
function withoutPropertiesPod(): PodLike {
  return {
    metadata: {
      name: "jupyter-alice",
      labels: { "hub.jupyter.org/username": "alice" },
      annotations: {
        "graft.pnda.io/component-type": "jupyter",
        "graft.pnda.io/app": "notebooks",
      },
    },
    spec: {
      containers: [
        {
          name: "notebook",
          image: "jupyter/base-notebook",
          env: [{ name: "JAVA_TOOL_OPTIONS", value: "-Xmx1g" }],
          volumeMounts: [{ name: "home", mountPath: "/home/jovyan" }],
        },
        { name: "sidecar", image: "busybox", env: [{ name: "A", value: "1" }] },
      ],
      volumes: [{ name: "home", emptyDir: {} }],
    },
  };
}

describe("renderPlan", () => {
  it.each([
    ["properties, notebooks and agent", everyFeaturePod, ["properties", "notebooks", "agent"]],
    ["notebooks and agent", withoutPropertiesPod, ["notebooks", "agent"]],
  ])("renders %s without changing the pod it is given", (_name, makePod, features) => {
    const received = deepFrozen(makePod());
    const injection = injectPod(received, "jhub", facts);
    if (injection.kind !== "injected") throw new Error(`not injected: ${JSON.stringify(injection)}`);
    expect(Object.keys(injection.plan.features)).toEqual(features);
    expect(received).toEqual(makePod());
  });

  it("puts each feature's part on the copy: the file mounted, the class path appended to, the sync hook, the agent", () => {
    const injection = injectPod(deepFrozen(everyFeaturePod()), "jhub", facts);
    if (injection.kind !== "injected") throw new Error(`not injected: ${JSON.stringify(injection)}`);
    const [notebook, sidecar] = injection.pod.spec?.containers ?? [];
    expect(notebook?.env?.[0]).toEqual({
      name: "JAVA_TOOL_OPTIONS",
      value: "-Xmx1g -Xbootclasspath/a:/etc/graft",
    });
    expect(notebook?.volumeMounts?.map((m) => m.name)).toEqual([
      "home",
      "graft-properties",
      "graft-notebook-sync",
    ]);
    expect(notebook?.lifecycle?.postStart?.exec?.command).toBeDefined();
    expect(sidecar?.env?.map((e) => e.name)).toEqual(["A", "GRAFT_PROPERTIES_FILE", "JAVA_TOOL_OPTIONS"]);
    expect(injection.pod.spec?.initContainers?.map((c) => c.name)).toEqual(["graft-agent"]);
  });
});
