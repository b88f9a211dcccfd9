/**
 * `graft inject -f FILE|- [--config F] [--namespace NS] [--assume-opted-in] [--native-sidecars true|false] [--platform F]`
 * `graft inject --admission-review FILE|- [--config F]`
 * Reads files and flags into facts, then runs the webhook's own code path.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { parseCommandLine } from "../../core/cli-io.js";
import { errorMessage } from "../../core/result.js";
import { loadWebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../pipeline/admission.js";
import { injectManifests, replyToReview } from "./inject.js";
import { offlinePropertiesFacts } from "./properties.js";

export type InjectIO = {
  readFile: (path: string) => Promise<string>;
  readStdin: () => Promise<string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const processIO: InjectIO = {
  readFile: (path) => readFile(path, "utf8"),
  readStdin,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export const USAGE = `Usage:
  graft inject -f FILE|- [--config F] [--namespace NS] [--assume-opted-in]
               [--native-sidecars true|false] [--platform F]
      prints the documents as graft would admit them, then the objects graft would create;
      on stderr, each pod or workload left alone, with the reason's code and message
  graft inject --admission-review FILE|- [--config F] [--native-sidecars true|false]
      prints the AdmissionReview reply the webhook would send

Opt-in is decided as the webhook decides it: a pod (template) labelled graft.pnda.io/inject,
else its namespace's label, read from the Namespace documents in the input. A namespace the
input does not hold is not opted in, unless --assume-opted-in (a single manifest, previewed as
if its namespace were labelled). The namespace of a document without one is --namespace
(default "default"). --native-sidecars defaults to false when the config says
nativeSidecars: never, else true.
--platform: a graft-platform ConfigMap manifest or a .properties file of platform variables; the
ConfigMaps named by graft.pnda.io/properties-configmap are then taken from the -f documents.
`;

const OPTIONS = {
  filename: { type: "string", short: "f" },
  "admission-review": { type: "string" },
  config: { type: "string" },
  namespace: { type: "string", short: "n", default: "default" },
  "assume-opted-in": { type: "boolean", default: false },
  "native-sidecars": { type: "string" },
  platform: { type: "string" },
} as const;

export async function run(argv: string[], io: InjectIO = processIO): Promise<number> {
  const line = parseCommandLine("inject", argv, { usage: USAGE, options: OPTIONS }, io);
  if (!line.go) return line.code;
  const { values } = line;
  const input = values.filename ?? values["admission-review"];
  if ((values.filename === undefined) === (values["admission-review"] === undefined)) {
    io.stderr(`graft inject: give exactly one of -f and --admission-review\n\n${USAGE}`);
    return 2;
  }
  const native = values["native-sidecars"];
  if (native !== undefined && native !== "true" && native !== "false") {
    io.stderr(`graft inject: --native-sidecars is "${native}": expected true or false\n`);
    return 2;
  }

  let facts: AdmissionFacts;
  let text: string;
  try {
    const config = loadWebhookConfig(values.config ? await io.readFile(values.config) : undefined);
    facts = {
      config,
      nativeSidecars: native !== undefined ? native === "true" : config.nativeSidecars !== "never",
      namespaceOptIn: true,
    };
    text = input === "-" ? await io.readStdin() : await io.readFile(input!);
    if (values.platform !== undefined) {
      facts.properties = offlinePropertiesFacts(await io.readFile(values.platform), text);
    }
  } catch (error) {
    io.stderr(`graft inject: ${errorMessage(error)}\n`);
    return 1;
  }

  if (values["admission-review"] !== undefined) {
    let body: unknown;
    try {
      body = parseYaml(text);
    } catch (error) {
      io.stderr(`graft inject: ${input} is not JSON or YAML: ${errorMessage(error).split("\n")[0]}\n`);
      return 1;
    }
    const reply = replyToReview(body, facts);
    if (!reply.ok) {
      io.stderr(`graft inject: ${reply.error}\n`);
      return 1;
    }
    io.stdout(`${JSON.stringify(reply.value, null, 2)}\n`);
    return 0;
  }

  const result = injectManifests(text, facts, values.namespace, {
    assumeOptedIn: values["assume-opted-in"] === true,
  });
  for (const skipped of result.skipped) io.stderr(`skipped: ${skipped}\n`);
  for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
  if (result.errors.length > 0) {
    for (const error of result.errors) io.stderr(`error: ${error}\n`);
    return 1;
  }
  io.stdout(result.output);
  return 0;
}
