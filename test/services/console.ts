/** graft's console server on 127.0.0.1 and a free port, reading a real Prometheus, as tests run it. */
import { expect } from "vitest";
import type { HealthReport } from "../../console/health.js";
import { buildConsoleServer } from "../../console/server.js";
import { prometheusCheckResults } from "../../console/sources/prometheus.js";

export type TestConsole = {
  url: string;
  /** GET /api/health, which must answer 200. */
  report(): Promise<HealthReport>;
  close(): Promise<void>;
};

/**
 * A console over the Prometheus at `prometheusUrl`, refreshing every 500 ms. `staleAfterMs` and
 * `lookbackMs` shorten the defaults (3 and 10 minutes) so a test sees staleness in seconds.
 */
export async function startConsoleOnPrometheus(
  prometheusUrl: string,
  options: { staleAfterMs?: number; lookbackMs?: number } = {},
): Promise<TestConsole> {
  const app = buildConsoleServer({
    readResults: () =>
      prometheusCheckResults({
        url: prometheusUrl,
        timeoutMs: 2_000,
        ...(options.lookbackMs === undefined ? {} : { lookbackMs: options.lookbackMs, resolutionMs: 1_000 }),
      }),
    refreshMs: 500,
    ...(options.staleAfterMs === undefined ? {} : { staleAfterMs: options.staleAfterMs }),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return {
    url,
    report: async () => {
      const response = await fetch(`${url}/api/health`);
      expect(response.status).toBe(200);
      return (await response.json()) as HealthReport;
    },
    close: () => app.close(),
  };
}

/** `#rrggbb` as a browser reports a computed colour (`rgb(r, g, b)`). */
export function rgb(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgb(${r}, ${g}, ${b})`;
}
