/**
 * Real ZooKeeper (Debian's jars, installed by zookeeper/install.sh) run with `java -cp` and our own
 * zoo.cfg: a standalone server or an ensemble on 127.0.0.1, each on free ports with its own data dir.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { freePort, type Started, startProcess, tcpExchange, tempDir, waitFor } from "./spawn.js";

const CLASSPATH = ["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar"].join(":");

export type ZooKeeperServer = { address: string; port: number; process: Started; stop: () => Promise<void> };
export type ZooKeeper = { servers: ZooKeeperServer[]; addresses: string[]; stop: () => Promise<void> };

export async function startZooKeeper(
  options: { servers?: number; whitelist?: string } = {},
): Promise<ZooKeeper> {
  const count = options.servers ?? 1;
  const data = await tempDir("zookeeper");
  const ports = await Promise.all(
    Array.from({ length: count }, async () => ({
      client: await freePort(),
      peer: await freePort(),
      election: await freePort(),
    })),
  );
  const ensemble =
    count === 1 ? [] : ports.map((port, i) => `server.${i + 1}=127.0.0.1:${port.peer}:${port.election}`);
  const servers = await Promise.all(
    ports.map(async (port, i) => {
      const dir = path.join(data.dir, `server-${i + 1}`);
      await mkdir(dir, { recursive: true });
      if (count > 1) await writeFile(path.join(dir, "myid"), `${i + 1}\n`);
      const config = [
        "tickTime=200",
        "initLimit=25",
        "syncLimit=10",
        `dataDir=${dir}`,
        `clientPort=${port.client}`,
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        `4lw.commands.whitelist=${options.whitelist ?? "ruok,srvr,mntr"}`,
        ...ensemble,
      ];
      await writeFile(path.join(dir, "zoo.cfg"), `${config.join("\n")}\n`);
      const process = startProcess("java", [
        "-Xmx128m",
        "-XX:+UseSerialGC",
        "-cp",
        CLASSPATH,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain",
        path.join(dir, "zoo.cfg"),
      ]);
      return { address: `127.0.0.1:${port.client}`, port: port.client, process, stop: () => process.stop() };
    }),
  );
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await data.remove();
  };
  try {
    await Promise.all(
      servers.map((server) =>
        waitFor(
          `ZooKeeper on ${server.address} serving`,
          async () => /Mode: /.test(await tcpExchange(server.port, "srvr")),
          { process: server.process, timeoutMs: 60_000 },
        ),
      ),
    );
  } catch (caught) {
    await stopAll();
    throw caught;
  }
  return { servers, addresses: servers.map((server) => server.address), stop: stopAll };
}
