/**
 * `graft webhook-configuration`: prints the MutatingWebhookConfiguration that sends pods and
 * workloads to a graft webhook, for `kubectl apply -f -` (a webhook outside the cluster, as in
 * the demo, or a Service with a CA of your own).
 */
import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { PROCESS_OUTPUT, parseCommandLine } from "../../core/cli-io.js";
import { errorMessage } from "../../core/result.js";
import type { WebhookConfig } from "../model/config.js";
import { loadWebhookConfig } from "../model/config.js";
import { renderMutatingWebhookConfiguration, type WebhookTarget } from "./webhook-configuration.js";
import { renderWritePolicy } from "./write-policy.js";

const USAGE = `Usage: graft webhook-configuration (--url URL | --service NAMESPACE/NAME[:PORT]) [options]
       graft webhook-configuration --write-policy [--config F]

  --url URL        the webhook's base URL, e.g. https://127.0.0.1:8443 (paths are appended)
  --service S      the webhook's Service, e.g. graft/graft-webhook:443
  --ca-file F      PEM of the CA that signed the serving certificate (becomes caBundle)
  --config F       the webhook's config file (graft's namespace, excluded namespaces)
  --write-policy   print the ValidatingAdmissionPolicy (and binding) confining graft's writes
`;

const SERVICE = /^([a-z0-9-]+)\/([a-z0-9-]+)(?::(\d{1,5}))?$/;

function targetFrom(url: string | undefined, service: string | undefined): WebhookTarget | string {
  if ((url === undefined) === (service === undefined)) return "give exactly one of --url and --service";
  if (url !== undefined) {
    return /^https:\/\/[^\s?#]+$/.test(url)
      ? { url }
      : `--url must be https:// with no query or fragment, got "${url}"`;
  }
  const match = SERVICE.exec(service ?? "");
  if (!match) return `--service must look like NAMESPACE/NAME[:PORT], got "${service}"`;
  const [, namespace = "", name = "", port] = match;
  return { service: { namespace, name, ...(port ? { port: Number(port) } : {}) } };
}

export async function run(argv: string[]): Promise<number> {
  const line = parseCommandLine(
    "webhook-configuration",
    argv,
    {
      usage: USAGE,
      options: {
        url: { type: "string" },
        service: { type: "string" },
        "ca-file": { type: "string" },
        config: { type: "string" },
        "write-policy": { type: "boolean" },
      },
    },
    PROCESS_OUTPUT,
  );
  if (!line.go) return line.code;
  const { values } = line;
  const readConfig = async (): Promise<WebhookConfig> =>
    loadWebhookConfig(values.config ? await readFile(values.config, "utf8") : undefined);
  if (values["write-policy"]) {
    try {
      const config = await readConfig();
      const { policy, binding } = renderWritePolicy({
        graftNamespace: config.namespace,
        excludedNamespaces: config.excludedNamespaces,
      });
      process.stdout.write(`${stringify(policy)}---\n${stringify(binding)}`);
      return 0;
    } catch (error) {
      process.stderr.write(`graft webhook-configuration: ${errorMessage(error)}\n`);
      return 1;
    }
  }
  const target = targetFrom(values.url, values.service);
  if (typeof target === "string") {
    process.stderr.write(`graft webhook-configuration: ${target}\n\n${USAGE}`);
    return 2;
  }
  try {
    const config = await readConfig();
    const caBundle = values["ca-file"] ? await readFile(values["ca-file"], "utf8") : undefined;
    const rendered = renderMutatingWebhookConfiguration({
      target,
      graftNamespace: config.namespace,
      excludedNamespaces: config.excludedNamespaces,
      ...(caBundle ? { caBundle } : {}),
    });
    process.stdout.write(stringify(rendered));
    return 0;
  } catch (error) {
    process.stderr.write(`graft webhook-configuration: ${errorMessage(error)}\n`);
    return 1;
  }
}
