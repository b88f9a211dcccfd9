/**
 * A mini cluster run by a small Java launcher of ours (test/services/<name>/<Main>.java, compiled
 * by <name>/install.sh against jars from Maven Central, with java/GraftLauncher.java): the
 * launcher prints `graft-<name>-ready` once up, and takes commands as empty files written to
 * `<work dir>/commands`, answering each with `graft-<name>-done <command>` on stdout (or
 * `-unknown <command>`, or `-failed <command>: <exception>`, which make `command` throw). Any
 * other exception ends its JVM; so does the end of its standard input, a pipe held by this
 * process: the JVM cannot outlive the test, even one killed before its teardown.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { cacheDir, type Started, startProcess, tempDir, waitFor } from "./spawn.js";

export type JavaLauncher = {
  process: Started;
  work: string;
  /** The marker lines (`graft-…`) printed so far. */
  printed: () => string[];
  /** Sends one command; resolves once the launcher has carried it out, throws if it could not. */
  command: (name: string) => Promise<void>;
  stop: () => Promise<void>;
};

/** The launcher's answer to a command, once it has printed one. */
function answerTo(lines: string[], name: string, command: string): "done" | Error | undefined {
  for (const line of lines) {
    if (line === `graft-${name}-done ${command}`) return "done";
    if (line === `graft-${name}-unknown ${command}`) {
      return new Error(`the ${name} launcher does not know the command "${command}"`);
    }
    if (line.startsWith(`graft-${name}-failed ${command}: `)) {
      return new Error(`the ${name} launcher could not do ${command}: ${line.slice(line.indexOf(": ") + 2)}`);
    }
  }
  return undefined;
}

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
    { cwd: work.dir, stdin: "pipe" },
  );
  const printed = markers(process);
  const stop = async () => {
    await process.stop(20_000);
    await work.remove();
  };
  const failed = `graft-${options.name}-failed: `;
  let failure: string | undefined;
  try {
    await waitFor(
      `the ${options.name} launcher to be ready`,
      async () => {
        failure = printed().find((line) => line.startsWith(failed));
        return failure !== undefined || printed().includes(`graft-${options.name}-ready`);
      },
      { process, timeoutMs: options.timeoutMs ?? 150_000 },
    );
  } catch (caught) {
    await stop();
    throw caught;
  }
  if (failure !== undefined) {
    const output = process.output();
    await stop();
    throw new Error(
      `the ${options.name} launcher failed to start: ${failure.slice(failed.length)}\n${output}`,
    );
  }
  const command = async (name: string) => {
    // Commands are file names in the launcher's folder: nothing that could name another path.
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
      throw new Error(`not a launcher command: ${JSON.stringify(name)}`);
    const before = printed().length;
    await writeFile(path.join(work.dir, "commands", name), "");
    let answer: "done" | Error | undefined;
    await waitFor(
      `the ${options.name} launcher to do ${name}`,
      async () => {
        answer = answerTo(printed().slice(before), options.name, name);
        return answer !== undefined;
      },
      { process },
    );
    if (answer instanceof Error) throw answer;
  };
  return { process, work: work.dir, printed, command, stop };
}
