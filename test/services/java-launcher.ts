/**
 * A mini cluster run by a small Java launcher of ours (test/services/<name>/<Main>.java, compiled
 * by <name>/install.sh against jars from Maven Central): the launcher prints `graft-<name>-ready`
 * once up, and takes commands as empty files written to `<work dir>/commands`, answering each
 * with `graft-<name>-done <command>` on stdout.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { cacheDir, type Started, startProcess, tempDir, waitFor } from "./spawn.js";

export type JavaLauncher = {
  process: Started;
  work: string;
  /** Sends one command and resolves once the launcher has carried it out. */
  command: (name: string) => Promise<void>;
  stop: () => Promise<void>;
};

/** Java 17 closes the JDK internals Flink's and HBase's libraries reach into; their scripts open these. */
export const JDK17_OPENS = [
  "java.base/java.lang",
  "java.base/java.lang.reflect",
  "java.base/java.net",
  "java.base/java.io",
  "java.base/java.nio",
  "java.base/sun.nio.ch",
  "java.base/java.text",
  "java.base/java.time",
  "java.base/java.util",
  "java.base/java.util.concurrent",
  "java.base/java.util.concurrent.atomic",
  "java.base/java.util.concurrent.locks",
].map((name) => `--add-opens=${name}=ALL-UNNAMED`);

/** Marker lines (`graft-…`) the launcher printed, kept whole however much it logs. */
function markers(started: Started): () => string[] {
  const lines: string[] = [];
  let partial = "";
  started.child.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.filter((line) => line.startsWith("graft-")));
  });
  return () => lines;
}

export async function startJavaLauncher(options: {
  name: string;
  main: string;
  args: (work: string) => string[];
  jvm?: string[];
  /** The JVM's maximum heap (default 384m). */
  heap?: string;
  timeoutMs?: number;
}): Promise<JavaLauncher> {
  const home = path.join(cacheDir(), options.name);
  const work = await tempDir(options.name);
  const log4j = path.join(work.dir, "log4j.properties");
  await writeFile(
    log4j,
    "log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n" +
      "log4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n" +
      "log4j.appender.stderr.layout.ConversionPattern=%d %p %c: %m%n\n",
  );
  const process = startProcess(
    "java",
    [
      `-Xmx${options.heap ?? "384m"}`,
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Dlog4j.configuration=file:${log4j}`,
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
      `-Djava.io.tmpdir=${work.dir}`,
      ...(options.jvm ?? []),
      "-cp",
      `${path.join(home, "classes")}:${path.join(home, "libs")}/*`,
      options.main,
      ...options.args(work.dir),
    ],
    { cwd: work.dir },
  );
  const printed = markers(process);
  const stop = async () => {
    await process.stop(20_000);
    await work.remove();
  };
  try {
    await waitFor(
      `the ${options.name} launcher to be ready`,
      async () => printed().includes(`graft-${options.name}-ready`),
      { process, timeoutMs: options.timeoutMs ?? 150_000 },
    );
  } catch (caught) {
    await stop();
    throw caught;
  }
  const command = async (name: string) => {
    const done = `graft-${options.name}-done ${name}`;
    const before = printed().filter((line) => line === done).length;
    await writeFile(path.join(work.dir, "commands", name), "");
    await waitFor(
      `the ${options.name} launcher to do ${name}`,
      async () => printed().filter((line) => line === done).length > before,
      { process },
    );
  };
  return { process, work: work.dir, command, stop };
}
