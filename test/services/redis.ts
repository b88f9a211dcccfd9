/** A real redis-server (Debian's, installed by redis/install.sh) on a free port, no persistence. */
import { freePort, type Started, startProcess, tcpExchange, tempDir, waitFor } from "./spawn.js";

export type RedisServer = { host: string; port: number; process: Started; stop: () => Promise<void> };

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const data = await tempDir("redis");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    data.dir,
    "--save",
    "",
    "--appendonly",
    "no",
  ];
  if (options.password) args.push("--requirepass", options.password);
  const process = startProcess("redis-server", args);
  await waitFor(
    `redis-server on 127.0.0.1:${port}`,
    async () => /^(\+PONG|-NOAUTH)/.test(await tcpExchange(port, "PING\r\nQUIT\r\n")),
    { process, timeoutMs: 20_000 },
  );
  return {
    host: "127.0.0.1",
    port,
    process,
    stop: async () => {
      await process.stop();
      await data.remove();
    },
  };
}
