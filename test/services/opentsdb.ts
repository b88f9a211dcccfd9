/**
 * A real OpenTSDB: OpenTSDB 2.4's TSD (net.opentsdb:opentsdb from Maven Central, installed by
 * opentsdb/install.sh) run by opentsdb/MiniTsd.java, its HTTP API on a free port of 127.0.0.1,
 * storing through asynchbase into a real HBase (test/services/hbase.ts, whose OpenTSDB tables
 * this creates first).
 */
import type { Hbase } from "./hbase.js";
import { startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Opentsdb = {
  /** The TSD's HTTP API, as the opentsdb check's `url`. */
  url: string;
  process: Started;
  stop: () => Promise<void>;
};

export async function startOpentsdb(
  hbase: Pick<Hbase, "zookeeper" | "createOpentsdbTables">,
): Promise<Opentsdb> {
  await hbase.createOpentsdbTables();
  const port = await freePort();
  const launcher = await startJavaLauncher({
    name: "opentsdb",
    main: "MiniTsd",
    heap: "256m",
    args: (work) => [work, String(port), hbase.zookeeper],
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: launcher.process,
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
