/**
 * The Java launchers of test/services (java-launcher.ts, java/GraftLauncher.java) on a real one,
 * HDFS's: a command it does not know or cannot carry out is a clear error and it serves on; a
 * launcher that cannot start says why at once; and no JVM outlives its test — not after stop(),
 * not after a failed start, not when the test process is killed before any teardown. Each JVM is
 * found by its own work folder, which is on its command line.
 */
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Hdfs, startHdfs } from "../services/hdfs.js";
import { run, waitFor } from "../services/spawn.js";

/** The processes whose command line names `marker` (pgrep -f), the pgrep itself aside. */
async function processesNaming(marker: string): Promise<string[]> {
  const found = await run("pgrep", ["-a", "-f", marker]);
  return found.stdout
    .split("\n")
    .filter((line) => line.includes(" java "))
    .map((line) => line.slice(0, 200));
}

describe("a Java launcher's commands", () => {
  let hdfs: Hdfs | undefined;
  beforeAll(async () => {
    hdfs = await startHdfs({ dataNodes: 2 });
  }, 240_000);
  afterAll(async () => {
    await hdfs?.stop();
  });

  it("refuses a command it does not know, naming it, and serves on", async () => {
    await expect(hdfs!.launcher.command("no-such-command")).rejects.toThrow(
      'the hdfs launcher does not know the command "no-such-command"',
    );
    await expect(hdfs!.launcher.command("../escape")).rejects.toThrow('not a launcher command: "../escape"');
    await hdfs!.stopDataNode(1);
  });

  it("reports a command that throws with its exception, and serves on", async () => {
    await expect(hdfs!.stopDataNode(7)).rejects.toThrow(
      "the hdfs launcher could not do stop-datanode-7: java.lang.IllegalArgumentException: no DataNode 7",
    );
    await expect(hdfs!.launcher.command("stop-datanode-x")).rejects.toThrow(
      /could not do stop-datanode-x: java\.lang\.NumberFormatException: For input string: "x"/,
    );
    await hdfs!.enterSafeMode();
  });

  it("leaves no JVM once stopped", async () => {
    const work = hdfs!.launcher.work;
    expect(await processesNaming(work)).toHaveLength(1);
    await hdfs!.stop();
    hdfs = undefined;
    expect(await processesNaming(work)).toEqual([]);
  }, 60_000);
});

describe("a Java launcher that cannot start", () => {
  it("says why at once and leaves no JVM", async () => {
    // The NameNode's HTTP port is taken: MiniDFSCluster throws, with its threads started.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const failed = await startHdfs({ dataNodes: 1, port }).then(
        () => new Error("started"),
        (caught: Error) => caught,
      );
      expect(failed.message).toMatch(/^the hdfs launcher failed to start: .*BindException/);
      // Its command line: MiniHdfs <work dir> <port> <data nodes>.
      expect(await processesNaming(`MiniHdfs [^ ]+ ${port} 1`)).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 240_000);
});

describe("a Java launcher whose test process is killed outright", () => {
  it("ends its JVM with it", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(import.meta.dirname, "launcher-child.ts")],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let printed = "";
    child.stdout.on("data", (chunk: Buffer) => {
      printed += chunk.toString("utf8");
    });
    try {
      await waitFor("the child to start HDFS", async () => /^work \S+$/m.test(printed), {
        timeoutMs: 200_000,
      });
      const work = /^work (\S+)$/m.exec(printed)![1]!;
      expect(await processesNaming(work)).toHaveLength(1);
      child.kill("SIGKILL");
      // No teardown ran: the JVM sees its standard input close and exits (its shutdown hooks get 20 s).
      await waitFor("the JVM to exit", async () => (await processesNaming(work)).length === 0, {
        timeoutMs: 60_000,
      });
      await rm(work, { recursive: true, force: true }); // the killed process's teardown never ran
    } finally {
      child.kill("SIGKILL");
    }
  }, 300_000);
});
