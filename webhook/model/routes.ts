/**
 * The paths the API server calls graft on: the server serves them, the webhook configuration
 * names them. One route per webhook, so the server knows which selector let the pod through: a
 * pod that arrives on namespacePods is in a namespace labelled `inject=enabled`, without an API call.
 */
export const ADMISSION_PATHS = {
  namespacePods: "/mutate/namespace",
  labelledPods: "/mutate/pod",
  workloads: "/validate",
} as const;

export type AdmissionRoute = keyof typeof ADMISSION_PATHS;
