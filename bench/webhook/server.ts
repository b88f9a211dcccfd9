/**
 * The benchmark's server, a child process of run.ts: graft's webhook server as `graft webhook`
 * builds it, plus a baseline route in the same server that parses the review and allows it
 * untouched. Kubernetes is out of the picture: the platform variables are given, and ensuring
 * the properties ConfigMap is the cache hit it is for every pod of an app after the first.
 * Prints {"port": N} when listening.
 */
import { Registry } from "prom-client";
import { createAuthority, issueServingCert } from "../../certs/authority.js";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { parseAdmissionReview, reviewResponse } from "../../webhook/pipeline/review.js";
import { buildWebhookServer } from "../../webhook/server/server.js";
import { createAdmissionService } from "../../webhook/service/admission-service.js";
import { PLATFORM } from "./reviews.js";

export const BASELINE_PATH = "/baseline";

const authority = createAuthority({ now: new Date() });
const serving = issueServingCert(authority, {
  ipAddresses: ["127.0.0.1"],
  dnsNames: ["localhost"],
  now: new Date(),
});

const app = buildWebhookServer({
  admission: createAdmissionService({
    config: defaultWebhookConfig(),
    nativeSidecars: true,
    properties: {
      gatherFacts: async (_request, facts) => ({
        ...facts,
        properties: { platform: PLATFORM, configMaps: new Map() },
      }),
      ensure: async () => [],
      recover: () => undefined,
      observe: () => {},
    },
  }),
  registry: new Registry(),
  tls: { cert: serving.cert, key: serving.key },
  logger: false,
});

app.post(BASELINE_PATH, async (request, reply) => {
  const parsed = parseAdmissionReview(request.body);
  if (!parsed.ok) return reply.code(400).send({ message: parsed.error });
  return reviewResponse(parsed.value.uid, { allowed: true, patch: [], warnings: [] });
});

await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`,
);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
