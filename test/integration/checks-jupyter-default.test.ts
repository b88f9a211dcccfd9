/**
 * A `jupyter` pod's default check (webhook/features/agent/defaults.ts), run as the agent runs it,
 * against a real Jupyter server serving under a JupyterHub-style base URL.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHttp } from "../../agent/checks/http.js";
import type { CheckSpecOf } from "../../core/checks.js";
import { defaultChecks } from "../../webhook/features/agent/defaults.js";
import type { PodLike } from "../../webhook/model/kube.js";
import { type JupyterServer, startJupyterServer } from "../services/jupyter-server.js";
import { runCheck } from "./run-check.js";

/** The single-user pod as KubeSpawner makes it: its prefix and URL in the notebook container's env. */
const spawnedPod = (prefix: string, port: number): PodLike => ({
  spec: {
    containers: [
      {
        name: "notebook",
        env: [
          { name: "JUPYTERHUB_SERVICE_PREFIX", value: prefix },
          { name: "JUPYTERHUB_SERVICE_URL", value: `http://0.0.0.0:${port}${prefix}` },
        ],
      },
    ],
  },
});

function jupyterCheck(pod: PodLike): CheckSpecOf<"http"> {
  const [check] = defaultChecks("jupyter", pod);
  if (check?.type !== "http") throw new Error("expected the jupyter default to be an http check");
  return check;
}

describe("a jupyter pod's default check against a real Jupyter server under /user/alice/", () => {
  let root: string;
  let server: JupyterServer;
  let port: number;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "graft-jupyter-default-"));
    server = await startJupyterServer(root, { baseUrl: "/user/alice/" });
    port = Number(new URL(server.url).port);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("is OK: the server answers its API under the hub's prefix, without the user's token", async () => {
    const check = jupyterCheck(spawnedPod("/user/alice/", port));
    expect(check.url).toBe(`http://127.0.0.1:${port}/user/alice/api`);
    const result = await runCheck(checkHttp, check);
    expect(result).toMatchObject({ health: "OK", causes: [] });
  });

  it("is ERROR naming the URL when the server is not under that prefix", async () => {
    const check = jupyterCheck(spawnedPod("/user/bob/", port));
    const result = await runCheck(checkHttp, check);
    expect(result.health).toBe("ERROR");
    expect(result.causes[0]).toContain(`http://127.0.0.1:${port}/user/bob/api`);
  });
});
