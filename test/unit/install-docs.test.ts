// docs/install.md's configuration reference is the webhook's config schema: one row per key, in
// the schema's order, with what the schema allows and the default graft applies. The last
// column (what the key does) is prose and not checked.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultWebhookConfig } from "../../webhook/model/config.js";
import { WebhookConfigSchema } from "../../webhook/model/config-schema.js";

type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: string[];
  description?: string;
};

/** `| key | allowed | default |` as the schema and the defaults say, for every leaf key. */
function expectedRows(node: SchemaNode, path: string[] = []): string[] {
  if (node.type === "object" && node.properties) {
    return Object.entries(node.properties).flatMap(([key, child]) => expectedRows(child, [...path, key]));
  }
  let value: unknown = defaultWebhookConfig();
  for (const key of path) value = (value as Record<string, unknown>)[key];
  const allowed = node.enum
    ? `one of ${node.enum.map((v) => `\`${v}\``).join(", ")}`
    : node.type === "array"
      ? `list of ${node.items?.description ?? node.items?.type}`
      : (node.description ?? node.type);
  const fallback = typeof value === "string" ? value : JSON.stringify(value);
  return [`| \`${path.join(".")}\` | ${allowed} | \`${fallback}\` |`];
}

function documentedRows(): string[] {
  const text = readFileSync(fileURLToPath(new URL("../../docs/install.md", import.meta.url)), "utf8");
  const section = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(text)?.[1];
  if (!section) throw new Error("docs/install.md has no config-reference markers");
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map(
      (line) =>
        `| ${line
          .split("|")
          .slice(1, 4)
          .map((cell) => cell.trim())
          .join(" | ")} |`,
    );
}

describe("docs/install.md configuration reference", () => {
  it("has one row per config key, in order, with the schema's allowed values and defaults", () => {
    expect(documentedRows()).toEqual(expectedRows(WebhookConfigSchema as SchemaNode));
  });
});
