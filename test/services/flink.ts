/**
 * A real Flink: Flink's MiniCluster (flink-runtime and flink-clients from Maven Central, installed
 * by flink/install.sh) run by flink/MiniFlink.java — a JobManager whose REST endpoint
 * (`/overview`, `/jobs/overview`) is on a free port of 127.0.0.1, one TaskManager with 2 slots,
 * and a streaming job "graft-running" that runs until stopped.
 */
import { JDK17_OPENS, startJavaLauncher } from "./java-launcher.js";
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
  /** Submits "graft-flaky" (the second slot) and resolves once it is RUNNING. */
  submitFlakyJob: () => Promise<void>;
  /** Makes "graft-flaky" throw twice: restarted twice (1 s apart), then RUNNING again. */
  crashFlakyJob: () => Promise<void>;
  /** Cancels "graft-flaky", freeing its slot. */
  cancelFlakyJob: () => Promise<void>;
  /** Terminates the one TaskManager. */
  stopTaskManager: () => Promise<void>;
  stop: () => Promise<void>;
};

export async function startFlink(): Promise<Flink> {
  const port = await freePort();
  const launcher = await startJavaLauncher({
    name: "flink",
    main: "MiniFlink",
    jvm: JDK17_OPENS,
    args: (work) => [work, String(port)],
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: launcher.process,
    submitFailingJob: () => launcher.command("submit-failing-job"),
    submitFlakyJob: () => launcher.command("submit-flaky-job"),
    crashFlakyJob: () => launcher.command("crash-flaky-job"),
    cancelFlakyJob: () => launcher.command("cancel-flaky-job"),
    stopTaskManager: () => launcher.command("stop-taskmanager"),
    stop: async () => {
      await launcher.stop();
      await waitForPortClosed(port);
    },
  };
}
