/**
 * The AdmissionReview `admission.k8s.io/v1` envelope's schema (TypeBox). Not loaded at run time:
 * scripts/generate-validators.ts compiles it into review-validator.generated.ts, and review.ts
 * takes only its types.
 */
import { Type } from "@sinclair/typebox";

const GroupVersionKind = Type.Object({ group: Type.String(), version: Type.String(), kind: Type.String() });
const GroupVersionResource = Type.Object({
  group: Type.String(),
  version: Type.String(),
  resource: Type.String(),
});
const KubeObject = Type.Object({}, { additionalProperties: true });

export const AdmissionRequestSchema = Type.Object({
  uid: Type.String({ minLength: 1 }),
  kind: GroupVersionKind,
  resource: Type.Optional(GroupVersionResource),
  subResource: Type.Optional(Type.String()),
  requestKind: Type.Optional(GroupVersionKind),
  requestResource: Type.Optional(GroupVersionResource),
  requestSubResource: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  /** Authoritative: a pod made by a ReplicaSet has no metadata.namespace of its own yet. */
  namespace: Type.Optional(Type.String()),
  operation: Type.Union([
    Type.Literal("CREATE"),
    Type.Literal("UPDATE"),
    Type.Literal("DELETE"),
    Type.Literal("CONNECT"),
  ]),
  userInfo: Type.Optional(Type.Object({}, { additionalProperties: true })),
  object: Type.Optional(Type.Union([KubeObject, Type.Null()])),
  oldObject: Type.Optional(Type.Union([KubeObject, Type.Null()])),
  dryRun: Type.Optional(Type.Boolean()),
  options: Type.Optional(Type.Union([KubeObject, Type.Null()])),
});

export const AdmissionReviewSchema = Type.Object({
  apiVersion: Type.Literal("admission.k8s.io/v1"),
  kind: Type.Literal("AdmissionReview"),
  request: AdmissionRequestSchema,
});
