import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { PropertiesApi } from "./api.js";
import { orphanCandidates, sweepOrphans } from "./cleanup.js";

const MINUTE = 60_000;
const t0 = Date.parse("2026-01-01T00:00:00Z");

function cm(
  name: string,
  extra: { owned?: boolean; createdMin?: number; usedMin?: number; ns?: string } = {},
): V1ConfigMap {
  return {
    metadata: {
      name,
      namespace: extra.ns ?? "ns",
      uid: `uid-${name}`,
      resourceVersion: "1",
      creationTimestamp: new Date(t0 + (extra.createdMin ?? 0) * MINUTE),
      ...(extra.usedMin !== undefined
        ? { annotations: { "graft.pnda.io/last-used": new Date(t0 + extra.usedMin * MINUTE).toISOString() } }
        : {}),
      ...(extra.owned
        ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "1" }] }
        : {}),
    },
  };
}

const mounting = (name: string): V1Pod => ({
  spec: { containers: [], volumes: [{ name: "graft-properties", configMap: { name } }] },
});

describe("orphanCandidates", () => {
  it("picks ownerless ConfigMaps whose grace period since creation or last use has passed", () => {
    const found = orphanCandidates(
      [
        cm("graft-props-old"),
        cm("graft-props-owned", { owned: true }),
        cm("graft-props-young", { createdMin: 5 }),
        cm("graft-props-used-lately", { usedMin: 8 }),
        cm("not-graft"),
      ],
      t0 + 10 * MINUTE,
      10 * MINUTE,
    );
    expect(found.map((c) => c.metadata?.name)).toEqual(["graft-props-old"]);
  });
});

describe("sweepOrphans", () => {
  it("deletes an orphan no pod mounts, keeps one a pod mounts, and skips one that changed since listed", async () => {
    const deleted: string[] = [];
    const api: Pick<PropertiesApi, "listPropertiesConfigMaps" | "listPods" | "deleteIfUnchanged"> = {
      listPropertiesConfigMaps: async () => [
        cm("graft-props-a"),
        cm("graft-props-b"),
        cm("graft-props-c"),
        cm("graft-props-d", { owned: true }),
      ],
      listPods: async () => [mounting("graft-props-b")],
      deleteIfUnchanged: async (c) => {
        if (c.metadata?.name === "graft-props-c") return false;
        deleted.push(c.metadata?.name ?? "");
        return true;
      },
    };
    const result = await sweepOrphans(api as PropertiesApi, { now: t0 + 60 * MINUTE, graceMs: 10 * MINUTE });
    expect(deleted).toEqual(["graft-props-a"]);
    expect(result).toEqual({ deleted: ["ns/graft-props-a"], kept: 3 });
  });
});
