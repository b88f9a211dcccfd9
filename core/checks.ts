/**
 * The checks spec as text, JSON or YAML: what the webhook reads from the checks annotation and the
 * agent from a checks file written in YAML. The schema, the validation and the JSON path are in
 * checks-spec.ts (no YAML parser, for the agent's start-up); this adds the YAML parser, within
 * limits that hold whatever the text.
 */
import { Composer, type CST, isAlias, isCollection, isNode, isPair, isScalar, Parser } from "yaml";
import {
  CHECKS_LIMITS,
  type ChecksResult,
  nestedTooDeep,
  parseJsonText,
  resolveChecks,
  type SourcedChecksResult,
  validateChecksAsWritten,
} from "./checks-spec.js";
import type { Result } from "./result.js";

export * from "./checks-spec.js";

export type YamlScan = { flowCollections: number; tokens: number };

const CR = 0x0d;
const LF = 0x0a;
const FLOW = new Set([0x5b, 0x5d, 0x7b, 0x7d, 0x2c]); // [ ] { } ,
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const QUOTES = new Set([0x22, 0x27]); // " '
const INDICATORS = new Set([0x2d, 0x3f, 0x3a]); // - ? :
const NODE_START = new Set([0x23, 0x26, 0x2a, 0x21, 0x7c, 0x3e, 0x25, 0x40, 0x60]); // # & * ! | > % @ `

/** Space, tab, a line break, or past the end of the text (NaN). */
function isBlank(code: number): boolean {
  return Number.isNaN(code) || code === 0x20 || code === 0x09 || code === CR || code === LF;
}

/**
 * One linear pass over YAML text, before the YAML parser sees it, that bounds from above what the
 * parser would do with it: every "[" and "{" is counted, quoted ones too (so no quoting trick
 * can hide one), and tokens, what the parser's time grows with, by their first character.
 */
export function scanYaml(text: string): YamlScan {
  let flowCollections = 0;
  let tokens = 1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF || code === CR) tokens++;
    else if (FLOW.has(code) || QUOTES.has(code)) {
      tokens++;
      if (OPENERS.has(code)) flowCollections++;
    } else if (INDICATORS.has(code) && (isBlank(text.charCodeAt(i + 1)) || FLOW.has(text.charCodeAt(i + 1))))
      tokens++;
    else if (NODE_START.has(code) && (i === 0 || isBlank(text.charCodeAt(i - 1)))) tokens++;
  }
  return { flowCollections, tokens };
}

function yamlLimitError(scan: YamlScan): string | undefined {
  const { yamlFlowCollections, yamlTokens } = CHECKS_LIMITS;
  if (scan.flowCollections > yamlFlowCollections) {
    return `YAML with more than ${yamlFlowCollections} "[" and "{" (quoted ones count too) is refused, this has ${scan.flowCollections}: write the spec as JSON, or in block style`;
  }
  if (scan.tokens > yamlTokens) {
    return `YAML with more than ${yamlTokens} tokens (lines, commas, quotes, brackets, indicators) is refused, this has ${scan.tokens}: write the spec as JSON`;
  }
  return undefined;
}

/**
 * How deeply the YAML parser's syntax tree nests collections, counted without recursion and never
 * past `limit + 1`. The parser builds the tree with a stack of its own; the composer, which turns
 * it into values, recurses once per level: measured here, between the two.
 */
function syntaxDepth(tokens: readonly CST.Token[], limit: number): number {
  let deepest = 0;
  const pending: Array<[CST.Token | null | undefined, number]> = tokens.map((token) => [token, 0]);
  while (pending.length > 0) {
    const [token, depth] = pending.pop()!;
    if (!token) continue;
    if (token.type === "document") pending.push([token.value, depth]);
    else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      const level = depth + 1;
      if (level > deepest) deepest = level;
      if (deepest > limit) return deepest;
      for (const item of token.items as CST.CollectionItem[])
        pending.push([item.key, level], [item.value, level]);
    }
  }
  return deepest;
}

function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/**
 * What the YAML parser built, checked without recursion: no aliases (a billion laughs expands
 * from a few of them), anchors or tags, map keys that are plain scalars and unique, and no deeper
 * than the spec needs.
 */
function yamlNodeError(contents: unknown): string | undefined {
  const pending: Array<[unknown, number]> = [[contents, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || node === undefined) continue;
    if (isAlias(node)) return `aliases (*${node.source}) are not allowed`;
    if (!isNode(node)) continue;
    if (node.anchor) return `anchors (&${node.anchor}) are not allowed`;
    if (node.tag) return `tags (${node.tag}) are not allowed`;
    if (!isCollection(node)) continue;
    if (depth + 1 > CHECKS_LIMITS.depth) return nestedTooDeep();
    const keys = new Set<unknown>();
    const children: Array<[unknown, number]> = [];
    for (const item of node.items) {
      if (isPair(item)) {
        if (item.key !== null && !isScalar(item.key)) return "map keys must be scalars, not lists or maps";
        const key = isScalar(item.key) ? item.key.value : null;
        if (keys.has(key)) return `duplicate key ${JSON.stringify(key)}`;
        keys.add(key);
        children.push([item.key, depth + 1], [item.value, depth + 1]);
      } else children.push([item, depth + 1]);
    }
    // Reversed onto the stack, so the first problem in the text is the one reported.
    pending.push(...children.reverse());
  }
  return undefined;
}

/**
 * The spec's text as a value: JSON when it is JSON (checks-spec.ts), else YAML, parsed only
 * within the limits above.
 */
function parseChecksText(text: string): Result<unknown> {
  const json = parseJsonText(text);
  if (json !== undefined) return json;
  const limit = yamlLimitError(scanYaml(text));
  if (limit) return { ok: false, error: limit };
  const tokens = Array.from(new Parser().parse(text));
  if (syntaxDepth(tokens, CHECKS_LIMITS.depth) > CHECKS_LIMITS.depth)
    return { ok: false, error: nestedTooDeep() };
  const documents = Array.from(
    new Composer({
      version: "1.2",
      schema: "core",
      merge: false,
      // Checked below in one linear pass; the parser's own check compares every pair of keys.
      uniqueKeys: false,
      // Only the first error is shown, and making each one pretty costs more than parsing.
      prettyErrors: false,
    }).compose(tokens, true, text.length),
  );
  const document = documents[0]!;
  if (documents.length > 1) return { ok: false, error: "expected one YAML document, found more" };
  const [error] = document.errors;
  if (error) {
    const message = error.message.split("\n")[0];
    return { ok: false, error: `not valid YAML or JSON: ${message} at ${position(text, error.pos[0])}` };
  }
  if (document.directives?.yaml.explicit) return { ok: false, error: "YAML directives are not allowed" };
  const refused = yamlNodeError(document.contents);
  if (refused) return { ok: false, error: refused };
  return { ok: true, value: document.toJS({ maxAliasCount: 0 }) };
}

/**
 * Parses a checks spec given as YAML or JSON text (or already parsed), validating every check, and
 * resolves it (core/checks-spec.ts's validateChecks). Errors name the check and the field, so they
 * can be shown to whoever wrote the annotation.
 */
export function parseChecksSpec(input: unknown): ChecksResult {
  return resolveChecks(parseChecksAsWritten(input));
}

/** As parseChecksSpec, but the checks as written with their sources (validateChecksAsWritten). */
export function parseChecksAsWritten(input: unknown): SourcedChecksResult {
  if (typeof input !== "string") return validateChecksAsWritten(input);
  const parsed = parseChecksText(input);
  return parsed.ok ? validateChecksAsWritten(parsed.value) : { ok: false, error: [parsed.error] };
}
