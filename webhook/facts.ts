/**
 * What the admission core knows besides the request: read once at the edge (config file, API
 * server version, namespace labels) and passed in, so the core stays pure.
 */
import type { WebhookConfig } from "./config.js";
import type { PropertiesFacts } from "./properties/facts.js";

export type AdmissionFacts = {
  config: WebhookConfig;
  /** Whether to inject native sidecars; the caller resolves `config.nativeSidecars` (auto) against the cluster. */
  nativeSidecars: boolean;
  /**
   * True when the pod's namespace opted in (`graft.pnda.io/inject=enabled`), e.g. because the
   * namespace-selected webhook was called. When absent, `namespaceLabels` decides; when both are
   * absent, only the pod's own label opts it in.
   */
  namespaceOptIn?: boolean;
  namespaceLabels?: Record<string, string>;
  /** The name of the workload that owns the pod, when known (the default `app`). */
  ownerName?: string;
  /** graft's version, written into the status annotation (default: this build's, GRAFT_VERSION). */
  version?: string;
  /** Read for the properties feature before the core runs (properties/facts.ts); absent: none known. */
  properties?: PropertiesFacts;
};
