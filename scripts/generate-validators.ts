#!/usr/bin/env -S npx tsx
// Compiles graft's JSON schemas into ajv's standalone validators, one generated module per schema
// file (MODULES below): the webhook and the agent start, read their config and admit without
// loading ajv or TypeBox or compiling anything (docs/benchmarks.md: 14 MiB of the webhook's idle
// memory and a third of its start-up CPU). Each module is compiled with the ajv options a
// run-time compile would use, so acceptance, defaults and the errors' wording are the same (the
// tests beside each module compare them, and fail when a module is stale). Run by `npm run build`.
//
//   tsx scripts/generate-validators.ts          writes the modules
//   tsx scripts/generate-validators.ts --check  exits 1 if one is out of date
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type AnySchema, type Options } from "ajv";
import standalone from "ajv/dist/standalone/index.js";
import { transformSync } from "esbuild";
import { CHECK_SCHEMAS } from "../core/checks-schema.js";
import { WebhookConfigSchema } from "../webhook/model/config-schema.js";
import { AdmissionReviewSchema } from "../webhook/pipeline/review-schema.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** One generated module: its validators (export name → schema), and what wraps them. */
export type ValidatorModule = {
  /** The module's path from the repository's root. */
  file: string;
  /** The schema's source file, named in the module's header. */
  from: string;
  /** ajv's options, as a run-time compile of the same schema would pass them. */
  options: Options;
  /** The exported validators: name → schema. */
  validators: Record<string, AnySchema>;
  /** TypeScript before the validators (type imports) and after them (typed exports). */
  head?: string[];
  tail?: string[];
};

const CHECK_NAMES = Object.keys(CHECK_SCHEMAS).map((type) => [type, `validate_${type.replaceAll("-", "_")}`]);

export const MODULES = {
  checks: {
    file: "core/checks-validators.generated.ts",
    from: "core/checks-schema.ts",
    options: { allErrors: true, strict: true, verbose: true },
    validators: Object.fromEntries(
      CHECK_NAMES.map(([type, name]) => [name!, CHECK_SCHEMAS[type as keyof typeof CHECK_SCHEMAS]]),
    ),
    head: [
      'import type { SchemaValidator } from "./schema-errors.js";',
      'import type { CheckType } from "./checks-schema.js";',
    ],
    tail: [
      "/** One validator per check type, in the schema's order. */",
      "export const CHECK_VALIDATORS: Readonly<Record<CheckType, SchemaValidator>> = {",
      ...CHECK_NAMES.map(([type, name]) => `  ${JSON.stringify(type)}: ${name},`),
      "};",
    ],
  },
  webhookConfig: {
    file: "webhook/model/config-validator.generated.ts",
    from: "webhook/model/config-schema.ts",
    // useDefaults: the validator fills in every default, as loadWebhookConfig relies on.
    options: { allErrors: true, useDefaults: true, strict: true, verbose: true },
    validators: { validate_webhook_config: WebhookConfigSchema },
    head: ['import type { SchemaValidator } from "../../core/schema-errors.js";'],
    tail: [
      "/** Validates a webhook config in place, filling in its defaults. */",
      "export const validateWebhookConfig: SchemaValidator = validate_webhook_config;",
    ],
  },
  admissionReview: {
    file: "webhook/pipeline/review-validator.generated.ts",
    from: "webhook/pipeline/review-schema.ts",
    options: { allErrors: false, strict: true },
    validators: { validate_admission_review: AdmissionReviewSchema },
    head: ['import type { SchemaValidator } from "../../core/schema-errors.js";'],
    tail: [
      "/** Validates an AdmissionReview's envelope (the first error only). */",
      "export const validateAdmissionReview: SchemaValidator = validate_admission_review;",
    ],
  },
} satisfies Record<string, ValidatorModule>;

/**
 * ucs2length is the one run-time helper of ajv's the schemas need (maxLength and minLength count
 * code points): the generated code imports graft's core/ucs2length.ts instead (its test compares
 * the two), so a generated module needs nothing of ajv's.
 */
const RUNTIME_REQUIRE = 'require("ajv/dist/runtime/ucs2length").default';

/** The text of a generated module. */
export function validatorModule(module: ValidatorModule): string {
  const ajv = new Ajv({ ...module.options, code: { source: true, esm: true } });
  const exported: Record<string, string> = {};
  for (const [name, schema] of Object.entries(module.validators)) {
    ajv.addSchema(schema, `graft-${name}`);
    exported[name] = `graft-${name}`;
  }
  let code = standalone.default(ajv, exported).replace(/^"use strict";/, "");
  const helper = code.includes(RUNTIME_REQUIRE);
  const core = path.relative(path.dirname(module.file), "core") || ".";
  code = code.replaceAll(RUNTIME_REQUIRE, "ucs2length");
  if (/\brequire\(/.test(code)) {
    throw new Error(
      `${module.file}: ajv's standalone code requires a run-time module other than ucs2length: ${/require\([^)]*\)/.exec(code)?.[0]}`,
    );
  }
  // Laid out one statement a line (esbuild, no other change), so a change to the schema reads as a diff.
  code = transformSync(code, { loader: "js", format: "esm", legalComments: "none" }).code;
  return [
    `// Generated by scripts/generate-validators.ts from ${module.from} (ajv standalone code):`,
    "// edit the schema, then npm run build. Not type-checked: ajv's output is plain JavaScript.",
    "// @ts-nocheck",
    ...(module.head ?? []),
    ...(helper
      ? [`import { ucs2length } from "${core.startsWith(".") ? core : `./${core}`}/ucs2length.js";`]
      : []),
    "",
    code.trimEnd(),
    "",
    ...(module.tail ?? []),
    "",
  ].join("\n");
}

/** Where a module's file is. */
export function modulePath(module: ValidatorModule): string {
  return path.join(ROOT, module.file);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const module of Object.values(MODULES) as ValidatorModule[]) {
    const text = validatorModule(module);
    if (!check) writeFileSync(modulePath(module), text);
    else if (readFileSync(modulePath(module), "utf8") !== text) {
      console.error(`${module.file} is out of date: run npm run build`);
      stale = true;
    }
  }
  if (stale) process.exit(1);
}
