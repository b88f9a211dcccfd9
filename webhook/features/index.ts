/**
 * The features graft can inject, in the order they render. Adding one: write
 * `features/<name>/<name>.ts` exporting a `Feature<Params>` (pure: model/ and core/ only), add its
 * params type to `FeatureParams` and the feature to `FEATURES` below. Apps' containers are changed
 * before the agent is added.
 */

import type { Feature } from "../model/feature.js";
import { type AgentParams, agentFeature } from "./agent/agent.js";
import { type NotebooksParams, notebooksFeature } from "./notebooks/notebooks.js";
import { type PropertiesParams, propertiesFeature } from "./properties/properties.js";

export type FeatureParams = {
  properties: PropertiesParams;
  notebooks: NotebooksParams;
  agent: AgentParams;
};

export type FeatureName = keyof FeatureParams;

export const FEATURES: { readonly [K in FeatureName]: Feature<FeatureParams[K]> } = {
  properties: propertiesFeature,
  notebooks: notebooksFeature,
  agent: agentFeature,
};

/** Render order: the order of `FEATURES`. */
export const FEATURE_ORDER = Object.keys(FEATURES) as FeatureName[];
