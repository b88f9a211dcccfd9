/** `http`: the status code, optionally a text the body must contain, and for https the certificate's expiry. */
import type { ReasonCode } from "../../core/health.js";
import { describeRequestError, httpRequest } from "../http-request.js";
import { describeUrl } from "../target.js";
import { reasonOfError } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export const DEFAULT_TLS_EXPIRY_WARN_DAYS = 14;
const DAY_MS = 86_400_000;

function statusAccepted(status: number, expected: number[] | undefined): boolean {
  return expected ? expected.includes(status) : status >= 200 && status < 400;
}

/** WARN within `warnDays` of the certificate's expiry, ERROR once expired. */
export function judgeCertificateExpiry(
  target: string,
  validTo: string,
  now: number,
  warnDays: number,
): { health: CheckResult["health"]; cause?: string; secondsLeft: number } {
  const expiresAt = Date.parse(validTo);
  if (Number.isNaN(expiresAt)) {
    return {
      health: "ERROR",
      cause: `${target}: unreadable certificate expiry "${validTo}"`,
      secondsLeft: 0,
    };
  }
  const msLeft = expiresAt - now;
  const secondsLeft = Math.floor(msLeft / 1000);
  const when = new Date(expiresAt).toISOString();
  if (msLeft <= 0)
    return { health: "ERROR", cause: `${target}: TLS certificate expired at ${when}`, secondsLeft };
  if (msLeft < warnDays * DAY_MS) {
    const days = Math.floor(msLeft / DAY_MS);
    return {
      health: "WARN",
      cause: `${target}: TLS certificate expires in ${days} day${days === 1 ? "" : "s"} (${when})`,
      secondsLeft,
    };
  }
  return { health: "OK", secondsLeft };
}

export const checkHttp: CheckRunner<"http"> = async (spec, { signal, now, replyBudget }) => {
  const target = describeUrl(spec.url);
  const method = spec.method ?? "GET";
  let response: Awaited<ReturnType<typeof httpRequest>>;
  try {
    response = await httpRequest(spec.url, {
      method,
      signal,
      insecureSkipVerify: spec.insecureSkipVerify ?? false,
      // Without a text to look for (or for HEAD, whose content-length is the GET body's), the
      // body is not read: status and headers decide.
      maxBodyBytes: spec.bodyMatch === undefined || method === "HEAD" ? 0 : undefined,
      ...(replyBudget ? { budget: replyBudget } : {}),
    });
  } catch (error) {
    return {
      health: "ERROR",
      causes: [`${target}: ${describeRequestError(error, signal)}`],
      reason: reasonOfError(error, signal),
    };
  }

  const values: Record<string, number> = { status_code: response.status };
  const causes: string[] = [];
  let health: CheckResult["health"] = "OK";
  let reason: ReasonCode = "ok";
  const worsen = (to: CheckResult["health"], cause: string, why: ReasonCode) => {
    if (to === "ERROR" ? health !== "ERROR" : health === "OK") reason = why;
    if (to === "ERROR" || health === "OK") health = to;
    causes.push(cause);
  };

  if (!statusAccepted(response.status, spec.expectStatus)) {
    const expected = spec.expectStatus?.join(", ") ?? "2xx or 3xx";
    worsen("ERROR", `${target}: status ${response.status}, expected ${expected}`, "http_status");
  }
  if (spec.bodyMatch !== undefined && method !== "HEAD" && !response.body.includes(spec.bodyMatch)) {
    worsen("ERROR", `${target}: body does not contain ${JSON.stringify(spec.bodyMatch)}`, "unhealthy");
  }
  if (response.certificate) {
    const expiry = judgeCertificateExpiry(
      target,
      response.certificate.valid_to,
      now(),
      spec.tlsExpiryWarnDays ?? DEFAULT_TLS_EXPIRY_WARN_DAYS,
    );
    values.tls_expiry_seconds = expiry.secondsLeft;
    if (expiry.cause) worsen(expiry.health, expiry.cause, "tls");
  }
  return { health, causes, values, reason };
};
