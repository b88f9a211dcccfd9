/**
 * What the admission core knows besides the request: read once at the edge (config file, API
 * server version, namespace labels) and passed in, so the core stays pure.
 */
import type { WebhookConfig } from "./config.js";

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
  /** Read for the properties feature before the core runs (io/properties/gather.ts); absent: none known. */
  properties?: PropertiesFacts;
  /** Set when the notebooks feature's ConfigMap (the sync script) could not be made (io/notebooks/). */
  notebooks?: NotebooksFacts;
};

/** The notebooks feature's part of the facts. */
export type NotebooksFacts = {
  /** Why the sync script's ConfigMap cannot be made now: the pod is admitted without the sync, with a warning. */
  unavailable?: string;
};

/** The properties feature's part of the facts, read by io/properties/gather.ts (or from files offline). */
export type PropertiesFacts = {
  /** graft-platform's variables, by name (empty when it does not exist). */
  platform: ReadonlyMap<string, string>;
  /** ConfigMaps of the pod's namespace that were read, by name; undefined: it does not exist. */
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>;
  /** Why the properties cannot be made now (the API server failed): `properties.onFailure` decides. */
  unavailable?: string;
};
