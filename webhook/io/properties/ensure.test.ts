import type { V1ConfigMap, V1OwnerReference } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { propertiesConfigMap } from "../../features/properties/configmap.js";
import { type PropertiesApi, PropertiesApiError } from "./api.js";
import { createPropertiesEnsurer, isPropertiesConfigMap } from "./ensure.js";

function recordingApi(failures: { apply?: number; addOwner404?: number } = {}) {
  const calls: string[] = [];
  const api: PropertiesApi = {
    apply: async (cm) => {
      calls.push(`apply ${cm.metadata.name} owners=${cm.metadata.ownerReferences?.length ?? 0}`);
      if ((failures.apply ?? 0) > 0) {
        failures.apply!--;
        throw new PropertiesApiError("creating ConfigMap: forbidden (403)", 403);
      }
    },
    addOwner: async (_ns, name, owner) => {
      calls.push(`addOwner ${name} ${owner.uid}`);
      if ((failures.addOwner404 ?? 0) > 0) {
        failures.addOwner404!--;
        throw new PropertiesApiError("not found", 404);
      }
    },
    markUsed: async (_ns, name) => {
      calls.push(`markUsed ${name}`);
    },
    readData: async () => undefined,
    listGraftConfigMaps: async () => [],
    listPods: async () => [],
    deleteIfUnchanged: async () => true,
  };
  return { api, calls };
}

function owned(content: string, owner?: V1OwnerReference): V1ConfigMap {
  const cm = propertiesConfigMap({ namespace: "ns", app: "traffic", component: "agg", content });
  if (owner) cm.metadata.ownerReferences = [owner];
  return cm;
}

const rs = (uid: string): V1OwnerReference => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  name: `rs-${uid}`,
  uid,
  controller: false,
});

describe("createPropertiesEnsurer", () => {
  it("costs one apply and one owner patch for 1,000 pods of one ReplicaSet, concurrent or not", async () => {
    const { api, calls } = recordingApi();
    const ensure = createPropertiesEnsurer({ api });
    await Promise.all(Array.from({ length: 500 }, () => ensure(owned("a=1\n", rs("1")))));
    for (let i = 0; i < 500; i++) await ensure(owned("a=1\n", rs("1")));
    expect(calls).toEqual([
      `apply ${owned("a=1\n").metadata!.name} owners=0`,
      `addOwner ${owned("a=1\n").metadata!.name} 1`,
    ]);
  });

  it("adds each new controller as a further owner without applying again", async () => {
    const { api, calls } = recordingApi();
    const ensure = createPropertiesEnsurer({ api });
    await ensure(owned("a=1\n", rs("1")));
    await ensure(owned("a=1\n", rs("2")));
    expect(calls.slice(2)).toEqual([`addOwner ${owned("a=1\n").metadata!.name} 2`]);
  });

  it("does not remember a failure: the next admission tries again", async () => {
    const { api, calls } = recordingApi({ apply: 1 });
    const ensure = createPropertiesEnsurer({ api });
    await expect(ensure(owned("a=1\n", rs("1")))).rejects.toThrow(/forbidden/);
    await ensure(owned("a=1\n", rs("1")));
    expect(calls.filter((c) => c.startsWith("apply"))).toHaveLength(2);
    expect(calls.at(-1)).toMatch(/^addOwner/);
  });

  it("makes the ConfigMap again when it was deleted since this process applied it", async () => {
    const { api, calls } = recordingApi({ addOwner404: 1 });
    const ensure = createPropertiesEnsurer({ api });
    await ensure(owned("a=1\n", rs("1")));
    expect(calls.map((c) => c.split(" ")[0])).toEqual(["apply", "addOwner", "apply", "addOwner"]);
  });

  it("records the use by a pod without a controller, again only after the refresh interval", async () => {
    const { api, calls } = recordingApi();
    let clock = 0;
    const ensure = createPropertiesEnsurer({ api, ownerlessRefreshMs: 1000, now: () => clock });
    await ensure(owned("a=1\n"));
    clock = 999;
    await ensure(owned("a=1\n"));
    clock = 1000;
    await ensure(owned("a=1\n"));
    expect(calls.map((c) => c.split(" ")[0])).toEqual(["apply", "markUsed", "markUsed"]);
  });

  it("remembers at most cacheSize entries, so memory stays bounded", async () => {
    const { api, calls } = recordingApi();
    const ensure = createPropertiesEnsurer({ api, cacheSize: 2 }); // one ConfigMap: applied + owned
    await ensure(owned("a=1\n", rs("1")));
    await ensure(owned("a=1\n", rs("1")));
    expect(calls).toHaveLength(2);
    await ensure(owned("b=1\n", rs("1")));
    await ensure(owned("a=1\n", rs("1")));
    expect(calls.map((c) => c.split(" ")[0])).toEqual([
      "apply",
      "addOwner",
      "apply",
      "addOwner",
      "apply",
      "addOwner",
    ]);
  });
});

describe("isPropertiesConfigMap", () => {
  it("recognises graft's properties ConfigMaps only", () => {
    expect(isPropertiesConfigMap(owned("a=1\n"))).toBe(true);
    expect(
      isPropertiesConfigMap({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "graft-props-x" } }),
    ).toBe(false);
  });
});
