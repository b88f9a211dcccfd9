/**
 * Why graft denied an object, left it alone, or left a feature out: a stable `code` that metrics,
 * logs and programs use, and a `message` for the person who must act. Nothing parses messages.
 */

export const REASON_CODES = [
  // whether graft looks at the object at all ("opted-in" says why it does)
  "opted-in",
  "not-opted-in",
  "namespace-excluded",
  "opted-out",
  "not-handled",
  "no-pod-template",
  "no-graft-annotations",
  "unchanged-annotations",
  // what the object asks for
  "invalid-label",
  "invalid-annotation",
  // a feature left out, or refusing the pod
  "disabled",
  "off-by-default",
  "needs-native-sidecars",
  "no-checks",
  "port-taken",
  "notebooks-target-invalid",
  "notebooks-unavailable",
  "properties-names-missing",
  "properties-source-missing",
  "properties-invalid",
  "properties-unavailable",
  // graft itself
  "internal-error",
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export type Reason = { code: ReasonCode; message: string };

export function reason(code: ReasonCode, message: string): Reason {
  return { code, message };
}
