import { writeFile } from "node:fs/promises";
import path from "node:path";
import { freePort, run, startProcess, tempDir, waitFor } from "./spawn.js";

export type PrometheusServer = {
  url: string;
  port: number;
  /** Runs an instant query; resolves with the result vector. */
  query: (promql: string) => Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /**
   * Scrapes these targets from now on, as service discovery does when pods come and go (the
   * config rewritten, then SIGHUP); resolves once Prometheus' target list is exactly these.
   */
  retarget: (targets: ScrapeTarget[]) => Promise<void>;
  stop: () => Promise<void>;
};

/** `labels` are given to the target's series, as Kubernetes discovery gives `namespace` and `pod`. */
export type ScrapeTarget = { job: string; address: string; labels?: Record<string, string> };

export function prometheusConfig(targets: ScrapeTarget[]): string {
  // Targets of one job share it, as a PodMonitor's pods share theirs: one static config each.
  const byJob = new Map<string, ScrapeTarget[]>();
  for (const target of targets) byJob.set(target.job, [...(byJob.get(target.job) ?? []), target]);
  const jobs = [...byJob].map(
    ([job, members]) => `  - job_name: ${JSON.stringify(job)}
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
${members
  .map(
    ({ address, labels }) =>
      `      - targets: [${JSON.stringify(address)}]${labels ? `\n        labels: ${JSON.stringify(labels)}` : ""}`,
  )
  .join("\n")}`,
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
    retarget: async (targets) => {
      await writeFile(config, prometheusConfig(targets));
      started.child.kill("SIGHUP");
      const wanted = targets.map((target) => target.address).sort();
      await waitFor(
        "prometheus to scrape the new targets",
        async () => {
          const response = await fetch(`${url}/api/v1/targets?state=active`);
          const body = (await response.json()) as {
            data: { activeTargets: { discoveredLabels: Record<string, string> }[] };
          };
          const active = body.data.activeTargets.map((t) => t.discoveredLabels.__address__ ?? "").sort();
          return JSON.stringify(active) === JSON.stringify(wanted);
        },
        { process: started, timeoutMs: 30_000 },
      );
    },
    stop: async () => {
      await started.stop();
      await remove();
    },
  };
}

/** `promtool check metrics` on an exposition text: resolves with its findings (empty when clean). */
export async function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  const { code, stdout, stderr } = await run("promtool", ["check", "metrics"], { input: text });
  return { code, output: (stdout + stderr).trim() };
}
