/** What the sources share: their error, and reading a body with a time limit. */

/** What went wrong reading a source, in words for the page (shown as /api/health's 503 message). */
export class SourceError extends Error {}

/** The body of a GET, or a SourceError "`failure`: why" (refused, reset, no answer in time). */
export async function fetchText(url: string | URL, timeoutMs: number, failure: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await response.text();
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? "no answer in time" : (error as Error).message;
    throw new SourceError(`${failure}: ${reason}`);
  }
}

/** JSON.parse, with undefined for text that is not JSON: the caller's schema check then names it. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
