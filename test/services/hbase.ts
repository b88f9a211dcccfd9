/**
 * A real HBase: HBase 2.6's mini cluster (hbase-testing-util from Maven Central, installed by
 * hbase/install.sh) run by hbase/MiniHbase.java — a master, region servers, ZooKeeper and HDFS in
 * one JVM, all on 127.0.0.1 — and HBase's REST server (`/status/cluster`) on a free port, with a
 * table "graft" of 10 rows.
 */
import { JDK17_OPENS, startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Hbase = {
  /** The REST server, as the hbase check's `url`. */
  url: string;
  process: Started;
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
  return {
    url: `http://127.0.0.1:${port}`,
    process: launcher.process,
    stopRegionServer: (index) => launcher.command(`stop-regionserver-${index}`),
    abortRegionServer: (index) => launcher.command(`abort-regionserver-${index}`),
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
