import { describe, expect, it } from "vitest";
import { contentHash, ownerReferenceFor, propertiesConfigMap, propertiesConfigMapName } from "./configmap.js";

describe("propertiesConfigMapName", () => {
  it("is graft-props-<app>-<component>-<first 10 hex of the content hash>, the same every time", () => {
    const name = propertiesConfigMapName("traffic", "aggregator", "a=1\n");
    expect(name).toMatch(/^graft-props-traffic-aggregator-[0-9a-f]{10}$/);
    expect(propertiesConfigMapName("traffic", "aggregator", "a=1\n")).toBe(name);
    // A fixed value: a change here renames every ConfigMap graft made, so rolls every pod.
    expect(contentHash("traffic", "aggregator", "a=1\n")).toBe("c87ea52211");
  });

  it("changes with the content, the app and the component", () => {
    const base = propertiesConfigMapName("traffic", "aggregator", "a=1\n");
    expect(propertiesConfigMapName("traffic", "aggregator", "a=2\n")).not.toBe(base);
    expect(propertiesConfigMapName("traffic2", "aggregator", "a=1\n")).not.toBe(base);
    expect(propertiesConfigMapName("traffic", "aggregator2", "a=1\n")).not.toBe(base);
  });

  it("is a DNS subdomain name for any app and component, at most 253 characters", () => {
    const name = propertiesConfigMapName("My_App.Name", `${"C".repeat(300)}_`, "");
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name.startsWith("graft-props-my-app-name-ccc")).toBe(true);
  });
});

describe("propertiesConfigMap", () => {
  it("is immutable, labelled as graft's, and carries the file under application.properties", () => {
    const cm = propertiesConfigMap({
      namespace: "analytics",
      app: "traffic",
      component: "aggregator",
      content: "a=1\n",
    });
    expect(cm).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: propertiesConfigMapName("traffic", "aggregator", "a=1\n"),
        namespace: "analytics",
        labels: {
          "app.kubernetes.io/managed-by": "graft",
          "graft.pnda.io/app": "traffic",
          "graft.pnda.io/component": "aggregator",
        },
      },
      immutable: true,
      data: { "application.properties": "a=1\n" },
    });
  });
});

describe("ownerReferenceFor", () => {
  it("copies the pod's controller as a non-controlling, non-blocking owner", () => {
    const owner = ownerReferenceFor([
      { apiVersion: "v1", kind: "Other", name: "x", uid: "1" },
      {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: "web-5d9c",
        uid: "2",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(owner).toEqual({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web-5d9c",
      uid: "2",
      controller: false,
    });
  });

  it("is undefined for a bare pod", () => {
    expect(ownerReferenceFor(undefined)).toBeUndefined();
    expect(ownerReferenceFor([{ apiVersion: "v1", kind: "Other", name: "x", uid: "1" }])).toBeUndefined();
  });
});
