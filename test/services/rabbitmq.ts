/**
 * A real RabbitMQ (Debian's rabbitmq-server, installed by rabbitmq/install.sh) with the management
 * plugin, run as its own Erlang node: node name, ports, data, logs and Erlang cookie (HOME) all
 * under a temp dir, so it never touches the system service's. The management API (guest/guest,
 * allowed from localhost) is on a free port.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  freePort,
  runCommand,
  type Started,
  startProcess,
  tempDir,
  waitFor,
  waitForPortClosed,
} from "./spawn.js";

export type RabbitMq = {
  url: string;
  process: Started;
  /** Runs `rabbitmqctl <args>` against this node. */
  ctl: (...args: string[]) => Promise<string>;
  stop: () => Promise<void>;
};

const BIN = "/usr/lib/rabbitmq/bin";

export async function startRabbitMq(): Promise<RabbitMq> {
  const [amqpPort, distPort, managementPort, epmdPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const work = await tempDir("rabbitmq");
  const config = path.join(work.dir, "rabbitmq.conf");
  await writeFile(
    config,
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      `management.tcp.port = ${managementPort}`,
      "management.tcp.ip = 127.0.0.1",
      "log.console = true",
      "log.console.level = warning",
      "log.file = false",
      "",
    ].join("\n"),
  );
  await writeFile(path.join(work.dir, "enabled_plugins"), "[rabbitmq_management].\n");
  const node = `graft-test-${amqpPort}@localhost`;
  const env = {
    HOME: work.dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_USE_LONGNAME: "false",
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: config.replace(/\.conf$/, ""),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(work.dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: path.join(work.dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(work.dir, "log"),
    RABBITMQ_PID_FILE: path.join(work.dir, "rabbitmq.pid"),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "+S 1:1 +A 4",
    // Erlang's port mapper, which the node starts as a daemon: on loopback and a port of this
    // run's, so it can be stopped with the node (else it outlives the tests on 0.0.0.0:4369).
    ERL_EPMD_ADDRESS: "127.0.0.1",
    ERL_EPMD_PORT: String(epmdPort),
  };
  const process = startProcess(path.join(BIN, "rabbitmq-server"), [], { env, cwd: work.dir });
  const url = `http://127.0.0.1:${managementPort}`;
  const stop = async () => {
    await process.stop(30_000);
    await waitForPortClosed(managementPort);
    await runCommand("epmd", ["-port", String(epmdPort), "-kill"], { env }).catch(() => undefined);
    await waitForPortClosed(epmdPort);
    await work.remove();
  };
  try {
    await waitFor(
      `RabbitMQ management API on ${url}`,
      async () =>
        (await fetch(`${url}/api/overview`, { headers: { authorization: `Basic ${btoa("guest:guest")}` } }))
          .ok,
      { process, timeoutMs: 120_000 },
    );
  } catch (caught) {
    await stop();
    throw caught;
  }
  return {
    url,
    process,
    ctl: (...args) => runCommand(path.join(BIN, "rabbitmqctl"), ["-n", node, ...args], { env }),
    stop,
  };
}
