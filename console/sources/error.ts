/** What the sources share: their error, and reading a body with a time limit and a byte cap. */
import { TooLargeError } from "../../core/bytes.js";
import { errorMessage } from "../../core/result.js";

/** What went wrong reading a source, in words for the page (shown as /api/health's 503 message). */
export class SourceError extends Error {}

/**
 * The body of a GET, or a SourceError "`failure`: why" (refused, reset, no answer in time, or a
 * body over `maxBytes`: announced or streamed, the read stops at the cap and names it).
 */
export async function fetchText(
  url: string | URL,
  timeoutMs: number,
  failure: string,
  maxBytes: number,
): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await readCapped(response, maxBytes);
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError" ? "no answer in time" : errorMessage(error);
    throw new SourceError(`${failure}: ${reason}`);
  }
}

/** Reads a response's body as UTF-8 text, refusing more than `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const announced = Number(response.headers.get("content-length"));
  if (announced > maxBytes) {
    await response.body?.cancel();
    throw new TooLargeError("the reply", maxBytes, announced);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new TooLargeError("the reply", maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** JSON.parse, with undefined for text that is not JSON: the caller's schema check then names it. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
