/**
 * `jupyterhub`: the hub answers `/hub/api` with its version. With `tokenEnv` naming an env var
 * that holds an API token (scope `list:users`), `/hub/api/users` is read too, for the users and
 * their running servers.
 */
import { type Static, Type } from "@sinclair/typebox";
import { apiUrl, getJsonAs } from "./http-json.js";
import { failedWith, resultOf } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

export const HubInfo = Type.Object({ version: Type.String() });

/** A user's default server is `server` (a URL path or null); named servers are in `servers`. */
export const Users = Type.Array(
  Type.Object({
    name: Type.String(),
    server: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    servers: Type.Optional(Type.Record(Type.String(), Type.Object({ ready: Type.Optional(Type.Boolean()) }))),
  }),
);
export type Users = Static<typeof Users>;

export function assessUsers(users: Users): CheckResult {
  const running = users.reduce((total, user) => {
    const named = Object.values(user.servers ?? {}).filter((server) => server.ready !== false).length;
    return total + Math.max(named, user.server ? 1 : 0);
  }, 0);
  return resultOf([], { users: users.length, running_servers: running });
}

export const checkJupyterhub: CheckRunner<"jupyterhub"> = async (spec, { signal, env, replyBudget }) => {
  const request = { signal, timeoutMs: spec.timeoutMs, replyBudget };
  const hub = await getJsonAs(apiUrl(spec.url, "/hub/api"), HubInfo, request);
  if (!hub.ok) return failedWith(hub.error);
  if (spec.tokenEnv === undefined) return resultOf([]);
  const token = env[spec.tokenEnv];
  if (token === undefined || token === "") {
    return failedWith(`${spec.url}: env var ${spec.tokenEnv} (tokenEnv) is not set`, "config");
  }
  const usersUrl = apiUrl(spec.url, "/hub/api/users");
  const users = await getJsonAs(usersUrl, Users, {
    ...request,
    headers: { authorization: `token ${token}` },
  });
  if (users.ok) return assessUsers(users.value);
  const denied = /: HTTP (401|403)\b/.test(users.error.cause);
  if (denied)
    return failedWith(
      `${users.error.cause} (the token in ${spec.tokenEnv} needs the list:users scope)`,
      "config",
    );
  return failedWith(users.error);
};
