/** `dns`: the name resolves (A by default) through the pod's resolver or the given server. */
import { Resolver } from "node:dns/promises";
import type { CheckRunner } from "./types.js";

export const checkDns: CheckRunner<"dns"> = async (spec, { signal }) => {
  const recordType = spec.recordType ?? "A";
  const where = spec.server ? ` via ${spec.server}` : "";
  const target = `${spec.hostname} (${recordType}${where})`;
  // One try, with c-ares' own timeout inside the check's: the signal cancels whatever is left.
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(spec.timeoutMs / 2)), tries: 1 });
  if (spec.server) resolver.setServers([spec.server]);
  const cancel = () => resolver.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    const lookups = {
      A: () => resolver.resolve4(spec.hostname),
      AAAA: () => resolver.resolve6(spec.hostname),
      SRV: () => resolver.resolveSrv(spec.hostname),
      CNAME: () => resolver.resolveCname(spec.hostname),
    } as const;
    const answers: unknown[] = await lookups[recordType]();
    if (answers.length === 0) return { health: "ERROR", causes: [`${target}: no records`], reason: "dns" };
    return { health: "OK", causes: [], values: { answers: answers.length } };
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const reason = signal.aborted ? "no answer before the timeout" : (code ?? message);
    return { health: "ERROR", causes: [`${target}: ${reason}`], reason: signal.aborted ? "timeout" : "dns" };
  } finally {
    signal.removeEventListener("abort", cancel);
  }
};
