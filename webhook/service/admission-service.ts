/**
 * One admission from start to end, without HTTP: gather the facts → decide (the pure pipeline)
 * → ensure the objects the decision asks for → when that fails in a way a feature owns, decide
 * again with the failure as a fact → observe. Constructed once with the parts it uses (the
 * Namespace cache, the properties and notebooks features' I/O, the object writer), so a test
 * builds it from real or static parts and calls it without TLS; the server parses, calls it,
 * meters and replies.
 */

import type { EnsureObjects } from "../io/ensure-objects.js";
import { guardWrites, type NamespaceCache, verifyNamespaceOptIn } from "../io/namespace-cache.js";
import type { NotebooksRuntime } from "../io/notebooks/runtime.js";
import type { PropertiesRuntime } from "../io/properties/runtime.js";
import type { WebhookConfig } from "../model/config.js";
import type { AdmissionFacts } from "../model/facts.js";
import { type AdmissionDecision, admit as decide } from "../pipeline/admission.js";
import type { AdmissionRequest } from "../pipeline/review.js";

/** The properties feature's part of an admission (io/properties/runtime.ts). */
export type PropertiesIO = Pick<PropertiesRuntime, "gatherFacts" | "ensure" | "recover" | "observe">;

export type AdmissionServiceParts = {
  config: WebhookConfig;
  /** Decided once at start-up (io/cluster-version.ts). */
  nativeSidecars: boolean;
  /**
   * Confirms a namespace's opt-in before graft reads or writes for a pod admitted because of it
   * (io/namespace-cache.ts). Absent: the route's claim stands (tests, `graft inject`).
   */
  namespaces?: Pick<NamespaceCache, "confirm">;
  /** The properties feature's facts, ConfigMaps, recovery and counters; absent: none. */
  properties?: PropertiesIO;
  /** The notebooks feature's ConfigMap (the sync script) and recovery (io/notebooks/runtime.ts); absent: none. */
  notebooks?: NotebooksRuntime;
  /** Creates the objects a decision asks for (io/ensure-objects.ts); absent: nothing is written. */
  createObjects?: EnsureObjects;
  /** The decision; the pure pipeline unless a test replaces it. */
  admit?: (request: AdmissionRequest, facts: AdmissionFacts) => AdmissionDecision;
};

/**
 * Decides one review. `namespaceOptIn` is what the route claims about the pod's namespace
 * (true: it is labelled inject=enabled; false: it is not; undefined: unknown). Throws only when
 * graft could not write what the pod needs and no feature took the failure over: the server
 * answers 500 and the webhook's failurePolicy decides. Never writes on a dry run.
 */
export type AdmissionService = (
  request: AdmissionRequest,
  namespaceOptIn: boolean | undefined,
) => Promise<AdmissionDecision>;

export function createAdmissionService(parts: AdmissionServiceParts): AdmissionService {
  const {
    config,
    nativeSidecars,
    properties,
    notebooks,
    createObjects = async () => {},
    admit = decide,
  } = parts;
  const verifyOptIn = parts.namespaces ? verifyNamespaceOptIn(parts.namespaces) : undefined;
  const guard = parts.namespaces ? guardWrites(parts.namespaces) : undefined;

  const gather = async (request: AdmissionRequest, known: AdmissionFacts): Promise<AdmissionFacts> => {
    const facts = verifyOptIn ? await verifyOptIn(request, known) : known;
    return properties ? properties.gatherFacts(request, facts) : facts;
  };
  const ensure = async (decision: AdmissionDecision, request: AdmissionRequest): Promise<void> => {
    await guard?.(request);
    let rest = properties ? await properties.ensure(decision.create) : decision.create;
    rest = notebooks ? await notebooks.ensure(rest) : rest;
    await createObjects(rest, request);
  };
  const needsObjects = (decision: AdmissionDecision) => decision.allowed && decision.create.length > 0;
  /** The facts a feature that owns `error` decides again with; undefined when none owns it. */
  const recover = (error: unknown, facts: AdmissionFacts) =>
    properties?.recover(error, facts) ?? notebooks?.recover(error, facts);
  // Each feature that writes can fail once: a decision is taken at most this many times.
  const attempts = 3;

  return async (request, namespaceOptIn) => {
    let facts = await gather(request, { config, nativeSidecars, namespaceOptIn });
    let decision = admit(request, facts);
    for (let attempt = 1; needsObjects(decision) && request.dryRun !== true; attempt += 1) {
      try {
        await ensure(decision, request);
        break;
      } catch (error) {
        const recovered = attempt < attempts ? recover(error, facts) : undefined;
        if (!recovered) throw error;
        facts = recovered;
        decision = admit(request, facts);
      }
    }
    properties?.observe(decision);
    return decision;
  };
}
