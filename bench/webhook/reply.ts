// The reply built and serialised once (reviewResponseText) against the object serialised by
// fastify (JSON.stringify of reviewResponse), side by side in one process: CPU per reply.
// npx tsx bench/webhook/reply.ts
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { admit } from "../../webhook/pipeline/admission.js";
import { parseAdmissionReview, reviewResponse, reviewResponseText } from "../../webhook/pipeline/review.js";
import { jupyterReview, PLATFORM, sparkDriverReview } from "./reviews.js";

const facts = {
  config: defaultWebhookConfig(),
  nativeSidecars: true,
  namespaceOptIn: true,
  properties: { platform: PLATFORM, configMaps: new Map() },
};
for (const [name, body] of [
  ["spark", sparkDriverReview()],
  ["jupyter", jupyterReview()],
] as const) {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) throw new Error(parsed.error);
  const decision = admit(parsed.value, facts);
  const uid = parsed.value.uid;
  const N = 20000;
  const run = (f: () => string) => {
    const s = process.cpuUsage();
    let bytes = 0;
    for (let i = 0; i < N; i++) bytes += f().length;
    const u = process.cpuUsage(s);
    if (bytes === 0) throw new Error("no reply");
    return (u.user + u.system) / N;
  };
  const twice: number[] = [];
  const once: number[] = [];
  for (let r = 0; r < 7; r++) {
    twice.push(run(() => JSON.stringify(reviewResponse(uid, decision))));
    once.push(run(() => reviewResponseText(uid, decision)));
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(
    name,
    "reply bytes",
    reviewResponseText(uid, decision).length,
    "µs/reply twice",
    med(twice).toFixed(1),
    "once",
    med(once).toFixed(1),
  );
}
