/**
 * The properties feature's I/O in the webhook process, in one place for the server and the CLI:
 * the watch on graft-platform, the facts step (the component's ConfigMap), ensuring the
 * ConfigMaps the core asks for, what to do when that fails, the metrics, and the clean-up.
 */
import type { Registry } from "prom-client";
import { withDeadline } from "../../../core/deadline.js";
import type { WebhookConfig } from "../../model/config.js";
import type { AdmissionFacts } from "../../model/facts.js";
import type { KubernetesObject } from "../../model/kube.js";
import { type AdmissionDecision, podUnderReview } from "../../pipeline/admission.js";
import { decideOptIn } from "../../pipeline/plan.js";
import type { AdmissionRequest } from "../../pipeline/review.js";
import type { KubeClient } from "../kube/client.js";
import { kubernetesPropertiesApi, type PropertiesApi, PropertiesApiError } from "./api.js";
import { type Cleanup, DEFAULT_GRACE_MS, DEFAULT_SWEEP_INTERVAL_MS, startOrphanCleanup } from "./cleanup.js";
import { createPropertiesEnsurer, type EnsurePropertiesConfigMap, isPropertiesConfigMap } from "./ensure.js";
import {
  apiConfigMapReader,
  cachedConfigMapReader,
  gatherPropertiesFacts,
  type ReadConfigMapData,
} from "./gather.js";
import { createPlatformCache, type PlatformCache, platformInformer } from "./platform-cache.js";
import { createPropertiesMetrics, type PropertiesMetrics } from "./properties-metrics.js";

/** How long start-up waits for the first list of graft-platform before serving without it. */
export const START_TIMEOUT_MS = 10_000;

export type PropertiesRuntime = {
  /** Adds `facts.properties` for a pod being created, or a workload's template, that graft injects; never throws. */
  gatherFacts(request: AdmissionRequest, facts: AdmissionFacts): Promise<AdmissionFacts>;
  /** Ensures the properties ConfigMaps among `objects` exist and are owned; returns the other objects. */
  ensure(objects: KubernetesObject[]): Promise<KubernetesObject[]>;
  /**
   * Ensures one of graft's ConfigMaps (applied once, then owned or marked used): the notebooks
   * feature's sync script goes through it too (io/notebooks/runtime.ts), and the same clean-up.
   */
  ensureConfigMap: EnsurePropertiesConfigMap;
  /**
   * When ensuring failed because of a properties ConfigMap: the facts to admit again with, so the
   * feature denies the pod or admits it without the file (`properties.onFailure`). Else undefined.
   */
  recover(error: unknown, facts: AdmissionFacts): AdmissionFacts | undefined;
  /** Counts a decision taken while the properties could not be made. */
  observe(decision: AdmissionDecision): void;
  /** Starts the watch on graft-platform (resolves when first listed) and the clean-up. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type PropertiesRuntimeOptions = {
  config: WebhookConfig;
  registry: Registry;
  /** Builds the API calls, the informer and the clean-up from it; tests pass the parts instead. */
  client?: KubeClient;
  api?: PropertiesApi;
  platform?: PlatformCache;
  readConfigMap?: ReadConfigMapData;
  ensureConfigMap?: EnsurePropertiesConfigMap;
  /** The clean-up; false turns it off (e.g. all replicas but one). */
  cleanup?: false | { intervalMs?: number; graceMs?: number };
  log?: { warn: (object: object, message: string) => void; info: (object: object, message: string) => void };
};

export function createPropertiesRuntime(options: PropertiesRuntimeOptions): PropertiesRuntime {
  const metrics: PropertiesMetrics = createPropertiesMetrics(options.registry);
  const { client, config, log } = options;
  const need = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`createPropertiesRuntime needs client or ${name}`);
    return part;
  };
  const api = options.api ?? (client ? kubernetesPropertiesApi(client, metrics) : undefined);
  const platform =
    options.platform ??
    createPlatformCache(platformInformer(need(client, "platform")), {
      namespace: config.namespace,
      onError: (error) => log?.warn({ err: error }, "watch on ConfigMap graft-platform failed; retrying"),
    });
  const readConfigMap = options.readConfigMap ?? cachedConfigMapReader(apiConfigMapReader(need(api, "api")));
  const ensureConfigMap =
    options.ensureConfigMap ?? createPropertiesEnsurer({ api: need(api, "api"), metrics });
  let cleanup: Cleanup | undefined;

  return {
    ensureConfigMap,

    async gatherFacts(request, facts) {
      // A pod being created, or a workload's pod template (its missing ConfigMap is then a warning).
      const reviewed = podUnderReview(request);
      if (!reviewed) return facts;
      const { pod, namespace } = reviewed;
      // Nothing is read for a pod graft will not inject (an excluded namespace, a namespace
      // whose opt-in the Namespace cache did not confirm): a forged review reads nothing.
      if (!decideOptIn(pod, namespace, facts).inject) return facts;
      return {
        ...facts,
        properties: await gatherPropertiesFacts(pod, namespace, { platform, readConfigMap }),
      };
    },

    async ensure(objects) {
      const rest: KubernetesObject[] = [];
      for (const object of objects) {
        if (isPropertiesConfigMap(object)) await ensureConfigMap(object);
        else rest.push(object);
      }
      return rest;
    },

    recover(error, facts) {
      if (!(error instanceof PropertiesApiError)) return undefined;
      return {
        ...facts,
        properties: {
          platform: new Map(),
          configMaps: new Map(),
          ...facts.properties,
          unavailable: error.message,
        },
      };
    },

    observe(decision) {
      if (decision.reasons?.some((r) => r.code === "properties-unavailable")) metrics.failure("denied");
      else if (decision.plan?.skipped.some((s) => s.reason.code === "properties-unavailable")) {
        metrics.failure("admitted");
      }
    },

    async start() {
      if (options.cleanup !== false && api) {
        cleanup = startOrphanCleanup(api, {
          intervalMs: options.cleanup?.intervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
          graceMs: options.cleanup?.graceMs ?? DEFAULT_GRACE_MS,
          metrics,
          onSweep: (result) => {
            if (result.deleted.length > 0)
              log?.info({ deleted: result.deleted }, "deleted unused properties ConfigMaps");
          },
          onError: (error) =>
            log?.warn({ err: error }, "properties ConfigMap clean-up failed; next sweep retries"),
        });
      }
      await withDeadline(platform.start(), START_TIMEOUT_MS, "ConfigMap graft-platform was not listed");
    },

    async stop() {
      cleanup?.stop();
      await platform.stop();
    },
  };
}
