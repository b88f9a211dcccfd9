/**
 * What the codebase's checks and parsers return, and how an error becomes text: one shape, one
 * field name (`error`), one formatter.
 */

/** A value, or why there is none (a message for a person, unless `E` says otherwise). */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** The message of anything thrown: an Error's `message`, else the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A plain object (not null, not an array): what JSON and YAML objects parse to. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
