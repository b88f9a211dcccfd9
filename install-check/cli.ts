/**
 * `graft check [--kubeconfig F] [--namespace NS] [--output text|json]`: runs install-check's
 * checks against a cluster and prints them item by item (✔/✘ and the fix), or as JSON. Exit code
 * 1 when any check fails, 2 on a usage error.
 */
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { errorMessage } from "../core/result.js";
import { type CheckResult, runChecks } from "./check.js";

const USAGE = `Usage: graft check [--kubeconfig F] [--namespace NS] [--output text|json] [--min-days N]

  --kubeconfig F   cluster access (default: KUBECONFIG, then ~/.kube/config, then in-cluster)
  --namespace NS   graft's namespace (default graft)
  --output FORMAT  text (default) or json
  --min-days N     fail when the serving certificate expires within N days (default 7)
`;

export function format(results: CheckResult[]): string {
  return results
    .map((r) => `${r.ok ? "✔" : "✘"} ${r.name}: ${r.detail}${!r.ok && r.fix ? `\n    fix: ${r.fix}` : ""}`)
    .join("\n")
    .concat("\n");
}

export async function run(argv: string[]): Promise<number> {
  let values: {
    kubeconfig?: string;
    namespace?: string;
    output?: string;
    "min-days"?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: "string" },
        namespace: { type: "string" },
        output: { type: "string" },
        "min-days": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`graft check: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const output = values.output ?? "text";
  const minDays = values["min-days"] === undefined ? 7 : Number(values["min-days"]);
  if (!["text", "json"].includes(output) || !Number.isInteger(minDays) || minDays < 0) {
    process.stderr.write(`graft check: --output must be text or json, --min-days a whole number\n\n${USAGE}`);
    return 2;
  }
  const kubeConfig = new k8s.KubeConfig();
  if (values.kubeconfig) kubeConfig.loadFromFile(values.kubeconfig);
  else kubeConfig.loadFromDefault();
  const results = await runChecks({ kubeConfig, namespace: values.namespace ?? "graft", minDays });
  process.stdout.write(
    output === "json"
      ? `${JSON.stringify({ ok: results.every((r) => r.ok), checks: results }, null, 2)}\n`
      : format(results),
  );
  return results.every((r) => r.ok) ? 0 : 1;
}
