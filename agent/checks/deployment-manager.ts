/**
 * `deployment-manager`: PNDA's deployment manager API, as PNDA's dm_blackbox plugin probed it —
 * the package repository (`/repository/packages`), deployed packages (`/packages`) and
 * applications (`/applications`). Any of them failing is an ERROR, with the manager's own reason.
 */
import { Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs } from "./http-json.js";
import { error, type Finding, resultOf } from "./outcome.js";
import type { CheckRunner } from "./types.js";

export const RepositoryPackages = Type.Array(
  Type.Object({
    name: Type.String(),
    latest_versions: Type.Array(Type.Object({ version: Type.String(), file: Type.String() })),
  }),
);
export const DeployedPackages = Type.Array(Type.String());
export const Applications = Type.Array(Type.String());

export const checkDeploymentManager: CheckRunner<"deployment-manager"> = async (
  spec,
  { signal, replyBudget },
) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const [available, deployed, applications] = await Promise.all([
    getJsonAs(apiUrl(spec.url, "/repository/packages"), RepositoryPackages, request),
    getJsonAs(apiUrl(spec.url, "/packages"), DeployedPackages, request),
    getJsonAs(apiUrl(spec.url, "/applications"), Applications, request),
  ]);
  const findings: Finding[] = [];
  const values: Record<string, number> = {};
  if (available.ok) values.packages_available = available.value.length;
  else findings.push(error(available.error.cause, available.error.reason));
  if (deployed.ok) values.packages_deployed = deployed.value.length;
  else findings.push(error(deployed.error.cause, deployed.error.reason));
  if (applications.ok) values.applications = applications.value.length;
  else findings.push(error(applications.error.cause, applications.error.reason));
  return resultOf(findings, values);
};
