import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PropertiesApi } from "./api.js";
import { orphanCandidates, startOrphanCleanup, sweepOrphans } from "./cleanup.js";
import { NO_METRICS } from "./properties-metrics.js";

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

  it("treats the notebook sync script's ConfigMaps (ownerless, one per namespace) as it treats properties", () => {
    const found = orphanCandidates(
      [
        cm("graft-notebook-sync-0123456789"),
        cm("graft-notebook-sync-abcdef0123", { usedMin: 8 }),
        cm("graft-notebook-syncer"),
      ],
      t0 + 10 * MINUTE,
      10 * MINUTE,
    );
    expect(found.map((c) => c.metadata?.name)).toEqual(["graft-notebook-sync-0123456789"]);
  });
});

describe("sweepOrphans", () => {
  it("deletes an orphan no pod mounts, keeps one a pod mounts, and skips one that changed since listed", async () => {
    const deleted: string[] = [];
    const api: Pick<PropertiesApi, "listGraftConfigMaps" | "listPods" | "deleteIfUnchanged"> = {
      listGraftConfigMaps: async () => [
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

describe("startOrphanCleanup", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sweeps every interval and counts each finished sweep, ok or failed", async () => {
    vi.useFakeTimers();
    const sweeps: boolean[] = [];
    let fail = false;
    const api = {
      listGraftConfigMaps: async () => {
        if (fail) throw new Error("API server down");
        return [];
      },
    } as unknown as PropertiesApi;
    const errors: unknown[] = [];
    const cleanup = startOrphanCleanup(api, {
      intervalMs: 1_000,
      metrics: { ...NO_METRICS, sweep: (ok) => sweeps.push(ok) },
      onError: (error) => errors.push(error),
    });
    try {
      await vi.advanceTimersByTimeAsync(999);
      expect(sweeps).toEqual([]);
      await vi.advanceTimersByTimeAsync(2_001);
      expect(sweeps).toEqual([true, true, true]);
      fail = true;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(sweeps).toEqual([true, true, true, false]);
      expect(errors).toHaveLength(1);
    } finally {
      cleanup.stop();
    }
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sweeps).toHaveLength(4);
  });
});
