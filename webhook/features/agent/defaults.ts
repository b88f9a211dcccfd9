/**
 * The checks every agent runs by its pod's component type (docs/agent.md "Default checks"): a
 * streaming driver checks itself, a Jupyter server checks itself. Checks from the annotation or
 * the checks ConfigMap add to these; one of theirs with the same name replaces a default.
 */
import type { ComponentType } from "../../../core/annotations.js";
import type { CheckSpec } from "../../../core/checks.js";
import type { Container, PodLike } from "../../model/kube.js";

/** Spark's UI (`spark.ui.port`), Flink's REST (`rest.port`), a single-user server's (KubeSpawner's `port`). */
export const SPARK_UI_PORT = 4040;
export const FLINK_REST_PORT = 8081;
export const JUPYTER_PORT = 8888;

export const DEFAULT_CHECK_NAMES = {
  sparkStreaming: "spark-driver",
  flinkStreaming: "flink-jobmanager",
  jupyter: "jupyter-server",
} as const;

function envValue(containers: readonly Container[], name: string): string | undefined {
  for (const container of containers) {
    const found = container.env?.find((variable) => variable.name === name);
    if (found?.value !== undefined) return found.value;
  }
  return undefined;
}

/** An absolute URL path ending in "/", as JupyterHub writes JUPYTERHUB_SERVICE_PREFIX; else "/". */
function servicePrefix(value: string | undefined): string {
  if (value === undefined || !/^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*$/.test(value) || value.includes("//"))
    return "/";
  return value.endsWith("/") ? value : `${value}/`;
}

/** The single-user server's port: from JUPYTERHUB_SERVICE_URL (KubeSpawner sets it), else 8888. */
function jupyterPort(containers: readonly Container[]): number {
  const url = envValue(containers, "JUPYTERHUB_SERVICE_URL");
  const port = url?.match(/^https?:\/\/[^/]*:(\d{1,5})(\/|$)/)?.[1];
  const number = port === undefined ? Number.NaN : Number(port);
  return number >= 1 && number <= 65535 ? number : JUPYTER_PORT;
}

/** The default checks of a pod of `componentType` (none for `generic`). */
export function defaultChecks(componentType: ComponentType, pod: Readonly<PodLike>): CheckSpec[] {
  const containers = pod.spec?.containers ?? [];
  switch (componentType) {
    case "sparkStreaming":
      return [
        {
          name: DEFAULT_CHECK_NAMES.sparkStreaming,
          type: "spark",
          mode: "streaming",
          url: `http://127.0.0.1:${SPARK_UI_PORT}`,
          source: "spark",
        },
      ];
    case "flinkStreaming":
      return [
        {
          name: DEFAULT_CHECK_NAMES.flinkStreaming,
          type: "flink",
          url: `http://127.0.0.1:${FLINK_REST_PORT}`,
          requireRunningJob: true,
          source: "flink",
        },
      ];
    case "jupyter": {
      // /api/status needs the user's token, which the agent is not given (docs/agent.md says why); /api answers without one.
      const prefix = servicePrefix(envValue(containers, "JUPYTERHUB_SERVICE_PREFIX"));
      return [
        {
          name: DEFAULT_CHECK_NAMES.jupyter,
          type: "http",
          url: `http://127.0.0.1:${jupyterPort(containers)}${prefix}api`,
          expectStatus: [200],
          bodyMatch: '"version"',
          source: "jupyter",
        },
      ];
    }
    case "generic":
      return [];
  }
}

/** The defaults, then `own` checks: one of `own` named as a default replaces it. */
export function withDefaults(defaults: CheckSpec[], own: CheckSpec[]): CheckSpec[] {
  const ownNames = new Set(own.map((check) => check.name));
  return [...defaults.filter((check) => !ownNames.has(check.name)), ...own];
}
