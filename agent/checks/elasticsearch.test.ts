import { describe, expect, it } from "vitest";
import { assessClusterHealth, type ClusterHealth } from "./elasticsearch.js";

const health = (status: ClusterHealth["status"], unassigned: number): ClusterHealth => ({
  cluster_name: "c",
  status,
  number_of_nodes: 3,
  number_of_data_nodes: 3,
  active_shards: 10,
  relocating_shards: 0,
  initializing_shards: 0,
  unassigned_shards: unassigned,
});

describe("assessClusterHealth", () => {
  it("maps green to OK, yellow to WARN and red to ERROR", () => {
    expect(assessClusterHealth(health("green", 0), "es").health).toBe("OK");
    expect(assessClusterHealth(health("yellow", 2), "es").health).toBe("WARN");
    expect(assessClusterHealth(health("red", 4), "es").health).toBe("ERROR");
  });

  it("names the target and cluster and counts unassigned shards", () => {
    expect(assessClusterHealth(health("yellow", 2), "http://es:9200").causes).toEqual([
      'http://es:9200: cluster "c" is yellow (replicas unassigned; 2 unassigned shards)',
    ]);
    expect(assessClusterHealth(health("red", 4), "es").values).toMatchObject({
      unassigned_shards: 4,
      nodes: 3,
    });
  });
});
