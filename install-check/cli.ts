/**
 * `graft check [--kubeconfig F] [--namespace NS] [--output text|json]`: runs install-check's
 * checks against a cluster and prints them item by item (✔/✘ and the fix), or as JSON. Exit code
 * 1 when any check fails, 2 on a usage error.
 */
import { parseCommandLine, processIo } from "../core/cli-io.js";
import { loadKubeConfig } from "../core/kubeconfig.js";
import { errorMessage } from "../core/result.js";
import { type CheckResult, runChecks } from "./check.js";

const USAGE = `Usage: graft check [--kubeconfig F] [--namespace NS] [--output text|json] [--min-days N]
                   [--prometheus-url URL]

  --kubeconfig F        cluster access (default: KUBECONFIG, then ~/.kube/config, then in-cluster)
  --namespace NS        graft's namespace (default graft)
  --output FORMAT       text (default) or json
  --min-days N          fail when the serving certificate expires within N days (default 7)
  --prometheus-url URL  also check that this Prometheus scrapes every running agent
`;

export function format(results: CheckResult[]): string {
  return results
    .map((r) => `${r.ok ? "✔" : "✘"} ${r.name}: ${r.detail}${!r.ok && r.fix ? `\n    fix: ${r.fix}` : ""}`)
    .join("\n")
    .concat("\n");
}

export async function run(argv: string[]): Promise<number> {
  const io = processIo();
  const line = parseCommandLine(
    "check",
    argv,
    {
      usage: USAGE,
      options: {
        kubeconfig: { type: "string" },
        namespace: { type: "string" },
        output: { type: "string" },
        "min-days": { type: "string" },
        "prometheus-url": { type: "string" },
      },
    },
    io,
  );
  if (!line.go) return line.code;
  const { values } = line;
  const output = values.output ?? "text";
  const minDays = values["min-days"] === undefined ? 7 : Number(values["min-days"]);
  const prometheusUrl = values["prometheus-url"];
  if (
    !["text", "json"].includes(output) ||
    !Number.isInteger(minDays) ||
    minDays < 0 ||
    (prometheusUrl !== undefined && !URL.canParse(prometheusUrl))
  ) {
    io.stderr(
      `graft check: --output must be text or json, --min-days a whole number, --prometheus-url a URL\n\n${USAGE}`,
    );
    return 2;
  }
  let kubeConfig: ReturnType<typeof loadKubeConfig>;
  try {
    kubeConfig = loadKubeConfig(values.kubeconfig);
  } catch (error) {
    io.stderr(`graft check: ${errorMessage(error)}\n`);
    return 2;
  }
  const results = await runChecks({
    kubeConfig,
    namespace: values.namespace ?? "graft",
    minDays,
    ...(prometheusUrl !== undefined && { prometheusUrl }),
  });
  io.stdout(
    output === "json"
      ? `${JSON.stringify({ ok: results.every((r) => r.ok), checks: results }, null, 2)}\n`
      : format(results),
  );
  return results.every((r) => r.ok) ? 0 : 1;
}
