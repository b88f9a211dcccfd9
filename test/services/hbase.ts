/**
 * A real HBase: HBase 2.6's mini cluster (hbase-testing-util from Maven Central, installed by
 * hbase/install.sh) run by hbase/MiniHbase.java — a master, region servers, ZooKeeper and HDFS in
 * one JVM, all on 127.0.0.1 — and HBase's REST server (`/status/cluster`) on a free port, with a
 * table "graft" of 10 rows. Its ZooKeeper is where HBase clients (OpenTSDB's asynchbase) find it.
 */
import { JDK17_OPENS, startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Hbase = {
  /** The REST server, as the hbase check's `url`. */
  url: string;
  /** Its ZooKeeper, "127.0.0.1:port": the quorum an HBase client is given. */
  zookeeper: string;
  process: Started;
  /** Creates the tables OpenTSDB 2.4 needs (tsdb, tsdb-uid, tsdb-tree, tsdb-meta). */
  createOpentsdbTables: () => Promise<void>;
  /** Stops the `index`-th region server still running; the master lists it as dead. */
  stopRegionServer: (index: number) => Promise<void>;
  /** Aborts the `index`-th region server still running, as a crash would (the last one cannot be stopped cleanly). */
  abortRegionServer: (index: number) => Promise<void>;
  stop: () => Promise<void>;
};

export async function startHbase(options: { regionServers?: number } = {}): Promise<Hbase> {
  const port = await freePort();
  const launcher = await startJavaLauncher({
    name: "hbase",
    main: "MiniHbase",
    heap: "512m",
    jvm: [
      ...JDK17_OPENS,
      "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
      "-Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true",
    ],
    args: (work) => [work, String(port), String(options.regionServers ?? 2)],
    timeoutMs: 420_000, // 37–62 s alone; a CI run with every project at once took over 240 s
  });
  const zookeeperPort = launcher
    .printed()
    .find((line) => line.startsWith("graft-hbase-zookeeper "))
    ?.split(" ")[1];
  if (zookeeperPort === undefined) {
    await launcher.stop();
    throw new Error("the hbase launcher did not say where its ZooKeeper listens");
  }
  return {
    url: `http://127.0.0.1:${port}`,
    zookeeper: `127.0.0.1:${zookeeperPort}`,
    process: launcher.process,
    createOpentsdbTables: () => launcher.command("create-opentsdb-tables"),
    stopRegionServer: (index) => launcher.command(`stop-regionserver-${index}`),
    abortRegionServer: (index) => launcher.command(`abort-regionserver-${index}`),
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
