/** The jupyterhub check against a real JupyterHub (PyPI) behind a real configurable-http-proxy (npm). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkJupyterhub } from "../../agent/checks/jupyterhub.js";
import { type JupyterHub, startJupyterHub } from "../services/jupyterhub.js";
import { closedPort, serveRoutes, serveSilence } from "../services/recorded.js";
import { ABORT_SLACK_MS, runCheck } from "./run-check.js";

const spec = (url: string, tokenEnv?: string) => ({
  name: "hub",
  type: "jupyterhub" as const,
  url,
  ...(tokenEnv ? { tokenEnv } : {}),
});

describe("jupyterhub check against a real hub", () => {
  let hub: JupyterHub;
  beforeAll(async () => {
    hub = await startJupyterHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it("is OK when the hub answers its API, without a token", async () => {
    expect(await runCheck(checkJupyterhub, spec(hub.url))).toEqual(
      expect.objectContaining({ health: "OK", causes: [] }),
    );
  });

  it("counts users and running servers with the token from tokenEnv", async () => {
    const result = await runCheck(checkJupyterhub, spec(hub.url, "HUB_TOKEN"), {
      env: { HUB_TOKEN: hub.token },
    });
    expect(result).toMatchObject({ health: "OK", values: { users: hub.users.length, running_servers: 0 } });
  });

  it("is ERROR saying which scope the token needs when the hub rejects it, or naming an unset env var", async () => {
    const rejected = await runCheck(checkJupyterhub, spec(hub.url, "HUB_TOKEN"), {
      env: { HUB_TOKEN: "wrong" },
    });
    expect(rejected.health).toBe("ERROR");
    expect(rejected.causes[0]).toMatch(
      new RegExp(
        `^${hub.url}/hub/api/users: HTTP 403.*\\(the token in HUB_TOKEN needs the list:users scope\\)$`,
      ),
    );
    expect((await runCheck(checkJupyterhub, spec(hub.url, "HUB_TOKEN"))).causes).toEqual([
      `${hub.url}: env var HUB_TOKEN (tokenEnv) is not set`,
    ]);
  });

  it("is ERROR naming the hub once it is stopped", async () => {
    await hub.stop();
    expect((await runCheck(checkJupyterhub, spec(hub.url))).causes).toEqual([
      `${hub.url}/hub/api: connection refused`,
    ]);
  });
});

describe("jupyterhub check against misbehaving targets", () => {
  it("is ERROR naming the target when nothing listens", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect((await runCheck(checkJupyterhub, spec(url))).causes).toEqual([
      `${url}/hub/api: connection refused`,
    ]);
  });

  it("is ERROR by timeout, within the bound, when the target accepts and never answers", async () => {
    const silent = await serveSilence();
    const result = await runCheck(checkJupyterhub, spec(silent.url), { timeoutMs: 500 });
    await silent.stop();
    expect(result.causes).toEqual([`${silent.url}/hub/api: no answer within 500ms`]);
    expect(result.elapsedMs).toBeLessThan(500 + ABORT_SLACK_MS);
  });

  it("is ERROR when the target answers garbage", async () => {
    const garbage = await serveRoutes({ "/hub/api": { status: 200, text: "<html>login</html>" } });
    const result = await runCheck(checkJupyterhub, spec(garbage.url));
    await garbage.stop();
    expect(result.causes).toEqual([`${garbage.url}/hub/api: reply is not JSON: "<html>login</html>"`]);
  });
});
