/**
 * The forms annotation values take that the intent validates and a feature then relies on: a
 * notebook username, and a JSON object of properties. Pure.
 */
import type { Result } from "../../core/result.js";
import { errorMessage } from "../../core/result.js";

/**
 * Accepts both KubeSpawner slug schemes (escaped: `[a-z0-9-]`; safe: `[a-z0-9-]` with a hash) and
 * the POSIX-style names PNDA gave its users (`[a-z_][a-z0-9_.-]*`), and nothing that could leave
 * a URL path segment or a folder: no `/`, `%`, `@`, `:`, whitespace, quotes, shell characters,
 * upper case, a leading `-` or `.`, or `..`.
 */
const USERNAME = /^[a-z0-9_][a-z0-9._-]{0,63}$/;

/** The form, as error messages state it. */
export const NOTEBOOK_USER_FORM = '1-64 of a-z 0-9 . _ - (not starting with . or -, no "..")';

/** True for a username safe to put in a URL path segment and a repository name. */
export function isValidNotebookUser(value: string): boolean {
  return USERNAME.test(value) && !value.includes("..");
}

/** A properties.json value or an override. */
export type PropertyValue =
  | string
  | number
  | boolean
  | null
  | PropertyValue[]
  | { [key: string]: PropertyValue };

/** A JSON object's entries in text order (PNDA's properties.json, or the overrides annotation). */
export function jsonObject(text: string): Result<Map<string, PropertyValue>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not valid JSON (${errorMessage(error)})` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, error: 'expected a JSON object such as {"batch_size_seconds": "2"}' };
  }
  return { ok: true, value: new Map(Object.entries(raw as Record<string, PropertyValue>)) };
}
