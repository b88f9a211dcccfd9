/**
 * A real Prometheus (Debian `prometheus`, install: prometheus/install.sh) on 127.0.0.1 and a free
 * port, scraping the given targets every second, with its TSDB in a temporary folder.
 */
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { freePort, startProcess, tempDir, waitFor } from "./spawn.js";

export type PrometheusServer = {
  url: string;
  port: number;
  /** Runs an instant query; resolves with the result vector. */
  query: (promql: string) => Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop: () => Promise<void>;
};

/** `labels` are given to the target's series, as Kubernetes discovery gives `namespace` and `pod`. */
export type ScrapeTarget = { job: string; address: string; labels?: Record<string, string> };

export function prometheusConfig(targets: ScrapeTarget[]): string {
  const jobs = targets.map(
    ({ job, address, labels }) => `  - job_name: ${JSON.stringify(job)}
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [${JSON.stringify(address)}]${labels ? `\n        labels: ${JSON.stringify(labels)}` : ""}`,
  );
  return `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs.join("\n")}\n`;
}

export async function startPrometheus(targets: ScrapeTarget[]): Promise<PrometheusServer> {
  const { dir, remove } = await tempDir("prometheus");
  const config = path.join(dir, "prometheus.yml");
  await writeFile(config, prometheusConfig(targets));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = startProcess("prometheus", [
    `--config.file=${config}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  try {
    await waitFor("prometheus /-/ready", async () => (await fetch(`${url}/-/ready`)).ok, {
      process: started,
      timeoutMs: 60_000,
    });
  } catch (error) {
    await started.stop();
    await remove();
    throw error;
  }
  return {
    url,
    port,
    query: async (promql) => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== "success") throw new Error(`query ${promql}: ${body.error ?? response.status}`);
      return body.data?.result ?? [];
    },
    stop: async () => {
      await started.stop();
      await remove();
    },
  };
}

/** `promtool check metrics` on an exposition text: resolves with its findings (empty when clean). */
export function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: output.trim() }));
    child.stdin.end(text);
  });
}
