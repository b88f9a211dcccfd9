/**
 * A real Spark driver (PyPI pyspark in a venv, installed by spark/install.sh) running
 * spark/app.py, with its UI and REST API (`/api/v1`) on a free port of 127.0.0.1.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  cacheDir,
  freePort,
  runCommand,
  type Started,
  startProcess,
  tempDir,
  waitFor,
  waitForPortClosed,
} from "./spawn.js";

export type SparkDriver = {
  url: string;
  process: Started;
  /** Makes the driver run a job that fails, and resolves once it has. */
  failAJob: () => Promise<void>;
  /** Streaming drivers: makes each batch take 15 s (the interval is 5 s), so the job falls behind. */
  slowBatches: () => Promise<void>;
  stop: () => Promise<void>;
};

const PYTHON = path.join(cacheDir(), "spark", "venv", "bin", "python");

/** `streaming`: the driver also runs a DStreams job with 5 s batches (spark/app.py). */
export async function startSparkDriver(options: { streaming?: boolean } = {}): Promise<SparkDriver> {
  const port = await freePort();
  const work = await tempDir("spark");
  const args = [
    path.join(import.meta.dirname, "spark", "app.py"),
    String(port),
    ...(options.streaming ? ["streaming"] : []),
  ];
  const process = startProcess(PYTHON, args, {
    cwd: work.dir,
    env: { SPARK_LOCAL_DIRS: work.dir, SPARK_LOCAL_IP: "127.0.0.1", PYSPARK_PYTHON: PYTHON },
  });
  const stop = async () => {
    await process.stop();
    // The driver JVM is pyspark's child and may outlive the Python process for a moment.
    await waitForPortClosed(port);
    await work.remove();
  };
  try {
    await waitFor(
      `the Spark driver on 127.0.0.1:${port}`,
      // Ready once the app ran its first job and the REST API (initialised on first use) answers.
      async () =>
        process.output().includes("graft-spark-app-ready") &&
        (await fetch(`http://127.0.0.1:${port}/api/v1/applications`)).ok,
      {
        process,
        timeoutMs: 120_000,
      },
    );
  } catch (caught) {
    await stop();
    throw caught;
  }
  const failAJob = async () => {
    await writeFile(path.join(work.dir, "fail-a-job"), "");
    await waitFor(
      "the Spark driver to fail a job",
      async () => process.output().includes("graft-spark-app-job-failed"),
      {
        process,
      },
    );
  };
  const slowBatches = () => writeFile(path.join(work.dir, "slow-batches"), "");
  return { url: `http://127.0.0.1:${port}`, process, failAJob, slowBatches, stop };
}

export type SparkMaster = {
  url: string;
  process: Started;
  stop: () => Promise<void>;
  stopWorker: () => Promise<void>;
};

/** A real standalone Spark master (the pyspark package's jars) with one worker; its UI's `/json` on a free port. */
export async function startSparkMaster(): Promise<SparkMaster> {
  const [port, webPort, workerWebPort] = [await freePort(), await freePort(), await freePort()];
  const work = await tempDir("spark-master");
  // pyspark ships Spark's jars and launch scripts: its package folder is a SPARK_HOME.
  const SPARK_HOME = (
    await runCommand(PYTHON, ["-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"])
  ).trim();
  const sparkClass = path.join(SPARK_HOME, "bin", "spark-class");
  const env = {
    SPARK_HOME,
    SPARK_LOCAL_IP: "127.0.0.1",
    SPARK_DAEMON_MEMORY: "256m",
    SPARK_LOG_DIR: work.dir,
    SPARK_WORKER_DIR: work.dir,
  };
  const master = startProcess(
    sparkClass,
    [
      "org.apache.spark.deploy.master.Master",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--webui-port",
      String(webPort),
    ],
    { env, cwd: work.dir },
  );
  const worker = startProcess(
    sparkClass,
    [
      "org.apache.spark.deploy.worker.Worker",
      `spark://127.0.0.1:${port}`,
      "--host",
      "127.0.0.1",
      "--webui-port",
      String(workerWebPort),
      "--cores",
      "1",
      "--memory",
      "256m",
    ],
    { env, cwd: work.dir },
  );
  const url = `http://127.0.0.1:${webPort}`;
  const stop = async () => {
    await Promise.all([worker.stop(), master.stop()]);
    await work.remove();
  };
  try {
    await waitFor(
      `the Spark master on ${url} with an alive worker`,
      async () => {
        const state = (await (await fetch(`${url}/json`)).json()) as { aliveworkers?: number };
        return state.aliveworkers === 1;
      },
      { process: master, timeoutMs: 120_000 },
    );
  } catch (caught) {
    await stop();
    throw caught;
  }
  return { url, process: master, stop, stopWorker: () => worker.stop() };
}
