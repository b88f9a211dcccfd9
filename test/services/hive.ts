/**
 * A real HiveServer2: Hive 4.0.1 (hive-service from Maven Central, installed by hive/install.sh)
 * run by hive/MiniHive.java — HiveServer2 embedded in one JVM with its Thrift port (binary
 * transport, SASL PLAIN, authentication NONE) on a free port of 127.0.0.1. Its metastore has no
 * schema (see MiniHive.java): sessions open and close, queries would fail.
 */
import { JDK17_OPENS, startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Hive = { host: string; port: number; process: Started; stop: () => Promise<void> };

export async function startHive(): Promise<Hive> {
  const port = await freePort();
  const launcher = await startJavaLauncher({
    name: "hive",
    main: "MiniHive",
    heap: "512m",
    jvm: [...JDK17_OPENS, "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED"],
    args: (work) => [work, String(port)],
    timeoutMs: 240_000,
  });
  return {
    host: "127.0.0.1",
    port,
    process: launcher.process,
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
