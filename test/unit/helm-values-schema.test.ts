// charts/graft/values.schema.json is generated from the chart's values and webhook/model/config.ts's
// schema (test/helm/chart.ts): a change to either must regenerate it. Regenerate with
//   GRAFT_WRITE_CHART_SCHEMA=1 npx vitest run test/unit/helm-values-schema.test.ts
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { chartValuesSchema, committedSchema, schemaPath } from "../helm/chart.js";

describe("charts/graft/values.schema.json", () => {
  it("is what chartValuesSchema() builds from webhook/model/config.ts", async () => {
    const expected = chartValuesSchema();
    if (process.env.GRAFT_WRITE_CHART_SCHEMA === "1") {
      await writeFile(schemaPath, `${JSON.stringify(expected, null, 2)}\n`);
    }
    expect(await committedSchema()).toEqual(expected);
  });

  it("takes graft's config keys under config, except namespace", () => {
    const config = (chartValuesSchema().properties as Record<string, { properties: Record<string, unknown> }>)
      .config;
    expect(Object.keys(config?.properties ?? {}).sort()).toEqual(
      ["agent", "excludedNamespaces", "nativeSidecars", "notebooks", "onError", "properties"].sort(),
    );
  });
});
