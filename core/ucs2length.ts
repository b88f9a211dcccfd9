/**
 * The length of `text` as JSON Schema's minLength and maxLength count it: in code points, a
 * surrogate pair being one (ajv's `ucs2length`, which its generated validators call:
 * scripts/generate-validators.ts points them here). No array is made, so a 1 MiB string costs one
 * pass.
 */
export function ucs2length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point; a lone half counts on its own.
    if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    length++;
  }
  return length;
}
