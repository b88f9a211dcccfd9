/**
 * The ValidatingAdmissionPolicy that confines what graft's ServiceAccount may write, whatever
 * its RBAC says: ConfigMaps named graft-props-* carrying graft's labels, with one key
 * (application.properties) of at most MAX_PROPERTIES_BYTES, and ConfigMaps named
 * graft-notebook-sync-* labelled as graft's, with one key (sync.sh, the notebook sync script) of
 * at most MAX_SYNC_SCRIPT_BYTES; never in a namespace graft never injects. RBAC cannot say any of this (it has no name prefixes, labels or sizes), and a
 * webhook that is tricked into writing (a forged review) or a stolen token then reaches no
 * other object. Rendered here for manifests/base (a unit test keeps them equal) and for the
 * e2e test, which renders it for its own ServiceAccount.
 */
import { ALWAYS_EXCLUDED_NAMESPACES } from "../../core/annotations.js";
import { MAX_SYNC_SCRIPT_BYTES, SYNC_CONFIGMAP_PREFIX } from "../features/notebooks/sync-configmap.js";
import { SYNC_SCRIPT_KEY } from "../features/notebooks/sync-script.js";
import {
  CONFIGMAP_PREFIX,
  LABEL_APP,
  LABEL_MANAGED_BY,
  MANAGED_BY_GRAFT,
  MAX_PROPERTIES_BYTES,
} from "../features/properties/configmap.js";
import { PROPERTIES_KEY } from "../features/properties/sources.js";

export type WritePolicyOptions = {
  /** Names the policy and its binding (default graft-writes). */
  name?: string;
  /** graft's namespace and ServiceAccount: the user the policy applies to. */
  graftNamespace: string;
  serviceAccount?: string;
  /** More namespaces graft never writes to, besides kube-system, kube-public, kube-node-lease and graft's. */
  excludedNamespaces?: string[];
};

type Validation = { expression: string; messageExpression: string; reason: "Forbidden" };

const LABELS = { "app.kubernetes.io/name": "graft", "app.kubernetes.io/component": "webhook" };

/** A CEL string literal (the values here are DNS names and label keys: no quotes to escape). */
const literal = (text: string) => `'${text}'`;

/** CEL: `object` (an expression) is a notebook sync script's ConfigMap by its name. */
const isSyncScript = (object: string) =>
  `${object}.metadata.name.startsWith(${literal(SYNC_CONFIGMAP_PREFIX)})`;

/**
 * CEL: `object` (an expression) carries graft's managed-by label and, unless it holds the
 * notebook sync script (one per namespace, of no app), an app label.
 */
function hasGraftLabels(object: string): string {
  const labels = `${object}.metadata.labels`;
  return (
    `has(${labels}) && ${literal(LABEL_MANAGED_BY)} in ${labels} && ` +
    `${labels}[${literal(LABEL_MANAGED_BY)}] == ${literal(MANAGED_BY_GRAFT)} && ` +
    `(${literal(LABEL_APP)} in ${labels} || ${isSyncScript(object)})`
  );
}

/** CEL: every key of `object.data` is `key`, of at most `bytes` UTF-8 bytes. */
const onlyKey = (key: string, bytes: number) =>
  `object.data.all(k, k == ${literal(key)} && size(bytes(object.data[k])) <= ${bytes})`;

export function renderWritePolicy(options: WritePolicyOptions) {
  const { name = "graft-writes", graftNamespace, serviceAccount = "graft" } = options;
  const never = [
    ...new Set([...ALWAYS_EXCLUDED_NAMESPACES, graftNamespace, ...(options.excludedNamespaces ?? [])]),
  ];
  const subject = `'ServiceAccount ${graftNamespace}/${serviceAccount} (graft) may not ' + request.operation.lowerAscii() + ' ConfigMap ' + request.namespace + '/' + variables.target.metadata.name`;
  const validations: Validation[] = [
    {
      expression: `!(request.namespace in [${never.map(literal).join(", ")}])`,
      messageExpression: `${subject} + ': graft never writes in namespace ' + request.namespace`,
      reason: "Forbidden",
    },
    {
      expression: `variables.target.metadata.name.startsWith(${literal(CONFIGMAP_PREFIX)}) || ${isSyncScript("variables.target")}`,
      messageExpression: `${subject} + ': only ConfigMaps named ${CONFIGMAP_PREFIX}* or ${SYNC_CONFIGMAP_PREFIX}*'`,
      reason: "Forbidden",
    },
    {
      expression: `(${hasGraftLabels("variables.target")}) && (request.operation != 'UPDATE' || (${hasGraftLabels("oldObject")}))`,
      messageExpression: `${subject} + ': only ConfigMaps labelled ${LABEL_MANAGED_BY}=${MANAGED_BY_GRAFT} and, but for ${SYNC_CONFIGMAP_PREFIX}*, ${LABEL_APP}'`,
      reason: "Forbidden",
    },
    {
      expression:
        `request.operation == 'DELETE' || (!has(object.binaryData) && (!has(object.data) || ` +
        `(${isSyncScript("object")} ? ${onlyKey(SYNC_SCRIPT_KEY, MAX_SYNC_SCRIPT_BYTES)} : ${onlyKey(PROPERTIES_KEY, MAX_PROPERTIES_BYTES)})))`,
      messageExpression: `${subject} + ': only one key, ${PROPERTIES_KEY} of at most ${MAX_PROPERTIES_BYTES} bytes (${SYNC_SCRIPT_KEY} of at most ${MAX_SYNC_SCRIPT_BYTES} bytes in ${SYNC_CONFIGMAP_PREFIX}*)'`,
      reason: "Forbidden",
    },
  ];
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels: LABELS },
    spec: {
      // An error in an expression refuses the write: the policy exists to say no.
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["CREATE", "UPDATE", "DELETE"],
            resources: ["configmaps"],
          },
        ],
      },
      matchConditions: [
        {
          name: "graft-service-account",
          expression: `request.userInfo.username == ${literal(`system:serviceaccount:${graftNamespace}:${serviceAccount}`)}`,
        },
      ],
      // DELETE has no object, only oldObject (the ConfigMap being deleted).
      variables: [{ name: "target", expression: "request.operation == 'DELETE' ? oldObject : object" }],
      validations,
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels: LABELS },
    spec: { policyName: name, validationActions: ["Deny"] },
  };
  return { policy, binding };
}
