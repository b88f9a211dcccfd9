/**
 * Bounds for input that crosses a boundary (annotations, the checks spec, review messages): the
 * pieces every reader shares, so a hostile value is refused the same way wherever it arrives.
 */

/**
 * How deeply `value` nests arrays and objects (a scalar is 0, `[]` is 1, `[[1]]` is 2), counted
 * without recursion and never past `limit + 1`: a value 100,000 levels deep costs no more than
 * one `limit + 1` levels deep.
 */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== "object" || item === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) {
      if (typeof child === "object" && child !== null) pending.push([child, level]);
    }
  }
  return deepest;
}

/** `text` cut to at most `max` characters, saying how much was cut (for messages). */
export function truncated(text: string, max: number): string {
  if (text.length <= max) return text;
  // The note's length depends on the number it states: settle both (twice is enough).
  let kept = max;
  let note = "";
  for (let i = 0; i < 3; i++) {
    note = ` … (${text.length - kept} more characters)`;
    kept = Math.max(0, max - note.length);
  }
  return `${text.slice(0, kept)}${note}`;
}

/**
 * How deeply JSON text nests arrays and objects, read in one pass without parsing and never past
 * `limit + 1`. Exact for valid JSON, and for invalid JSON exact up to the first error, which is
 * as far as JSON.parse reads. A string is skipped whole, from its opening quote to the next quote
 * not escaped (not after an odd run of backslashes), found by indexOf: most of a review's text
 * is in strings, and every backslash before a quote is counted once, so the pass stays linear.
 */
export function jsonTextDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && escapedAt(text, end)) end = text.indexOf('"', end + 1);
      // A string that never ends: JSON.parse stops there too.
      if (end === -1) return deepest;
      i = end;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return deepest;
}

/** True when the character at `index` follows an odd run of backslashes (`\"` is escaped). */
function escapedAt(text: string, index: number): boolean {
  let slashes = 0;
  while (text.charCodeAt(index - 1 - slashes) === 0x5c) slashes++;
  return slashes % 2 === 1;
}
