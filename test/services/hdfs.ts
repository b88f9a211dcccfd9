/**
 * A real HDFS: Hadoop's MiniDFSCluster (hadoop-client-minicluster from Maven Central, installed by
 * hdfs/install.sh) run by hdfs/MiniHdfs.java — a NameNode whose HTTP server (`/jmx`, WebHDFS) is
 * on a free port of 127.0.0.1, real DataNodes, and a 3-block file replicated on every DataNode.
 */
import { type JavaLauncher, startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Hdfs = {
  /** The NameNode's HTTP server, as the hdfs check's `url`. */
  url: string;
  process: Started;
  /** The launcher itself, for tests of its command handling. */
  launcher: JavaLauncher;
  /** Stops the `index`-th DataNode still running (the NameNode declares it dead ~12 s later). */
  stopDataNode: (index: number) => Promise<void>;
  enterSafeMode: () => Promise<void>;
  stop: () => Promise<void>;
};

export async function startHdfs(options: { dataNodes?: number; port?: number } = {}): Promise<Hdfs> {
  const port = options.port ?? (await freePort());
  const launcher = await startJavaLauncher({
    name: "hdfs",
    main: "MiniHdfs",
    args: (work) => [work, String(port), String(options.dataNodes ?? 2)],
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: launcher.process,
    launcher,
    stopDataNode: (index) => launcher.command(`stop-datanode-${index}`),
    enterSafeMode: () => launcher.command("safemode-enter"),
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
