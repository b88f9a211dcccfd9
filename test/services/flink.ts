/**
 * A real Flink: Flink's MiniCluster (flink-runtime and flink-clients from Maven Central, installed
 * by flink/install.sh) run by flink/MiniFlink.java — a JobManager whose REST endpoint
 * (`/overview`, `/jobs/overview`) is on a free port of 127.0.0.1, one TaskManager with 2 slots,
 * and a streaming job "graft-running" that runs until stopped.
 */
import { startJavaLauncher } from "./java-launcher.js";
import { freePort, type Started, waitForPortClosed } from "./spawn.js";

export type Flink = {
  /** The JobManager's REST endpoint, as the flink check's `url`. */
  url: string;
  process: Started;
  /**
   * Submits "graft-failing", a job whose every record throws: RESTARTING three times, 3 s apart,
   * then FAILED.
   */
  submitFailingJob: () => Promise<void>;
  /** Terminates the one TaskManager. */
  stopTaskManager: () => Promise<void>;
  stop: () => Promise<void>;
};

/** Java 17 closes the JDK internals Flink's serializers reach into; Flink's own scripts open these. */
const OPENS = [
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

export async function startFlink(): Promise<Flink> {
  const port = await freePort();
  const launcher = await startJavaLauncher({
    name: "flink",
    main: "MiniFlink",
    jvm: OPENS,
    args: (work) => [work, String(port)],
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: launcher.process,
    submitFailingJob: () => launcher.command("submit-failing-job"),
    stopTaskManager: () => launcher.command("stop-taskmanager"),
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
