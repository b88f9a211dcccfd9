import { describe, expect, it } from "vitest";
import { defaultWebhookConfig, loadWebhookConfig } from "./config.js";

describe("loadWebhookConfig", () => {
  it("fills every default when no file is given", () => {
    expect(defaultWebhookConfig()).toEqual({
      namespace: "graft",
      excludedNamespaces: [],
      agent: {
        image: "ghcr.io/graft/graft:0.1.0",
        port: 9464,
        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
      },
      nativeSidecars: "auto",
      notebooks: {
        repoTemplate: "http://deployment-manager-git:8099/jupyter-{user}",
        folder: "/home/jovyan/apps-notebooks",
        waitSeconds: 20,
        limitSeconds: 300,
        maxFileBytes: 100 * 1024 * 1024,
        maxSyncBytes: 1024 * 1024 * 1024,
        maxFiles: 10_000,
      },
      properties: { onFailure: "deny" },
      onError: "deny",
    });
    expect(loadWebhookConfig("")).toEqual(defaultWebhookConfig());
  });

  it("keeps what the file sets and defaults the rest", () => {
    const config = loadWebhookConfig("agent: {image: registry.local/graft:dev}\nnativeSidecars: never\n");
    expect(config.agent.image).toBe("registry.local/graft:dev");
    expect(config.agent.resources.requests).toEqual({ cpu: "10m", memory: "64Mi" });
    expect(config.nativeSidecars).toBe("never");
    expect(config.namespace).toBe("graft");
  });

  it("refuses a notebook sync limit shorter than the wait, or a wait past KubeSpawner's patience", () => {
    expect(() => loadWebhookConfig("notebooks: {waitSeconds: 30, limitSeconds: 10}")).toThrow(
      '"notebooks.limitSeconds" (10) must be at least "notebooks.waitSeconds" (30)',
    );
    expect(() => loadWebhookConfig("notebooks: {waitSeconds: 90}")).toThrow(
      /"notebooks\/waitSeconds"|notebooks.waitSeconds" must be <= 50/,
    );
  });

  it("takes the webhook's own image for the agent unless the file names one", () => {
    const own = { agentImage: "registry.local/graft:1.2.3" };
    expect(loadWebhookConfig(undefined, own).agent.image).toBe("registry.local/graft:1.2.3");
    expect(loadWebhookConfig("agent: {resources: {}}", own).agent.image).toBe("registry.local/graft:1.2.3");
    expect(loadWebhookConfig("agent: {image: mine/agent:1}", own).agent.image).toBe("mine/agent:1");
    expect(loadWebhookConfig(undefined).agent.image).toBe("ghcr.io/graft/graft:0.1.0");
  });

  it("names an unknown key, so a typo is not a silent default", () => {
    expect(() => loadWebhookConfig("agnet: {image: x}")).toThrow(
      'invalid webhook config: unknown field "agnet"',
    );
    expect(() => loadWebhookConfig("agent: {imag: x}")).toThrow('unknown field "agent.imag"');
  });

  it("names the key and the expected form of a bad value", () => {
    expect(() => loadWebhookConfig("nativeSidecars: sometimes")).toThrow(
      '"nativeSidecars" must be one of auto, always, never',
    );
    expect(() => loadWebhookConfig("notebooks: {repoTemplate: 'ssh://git@git.example/{user}.git'}")).toThrow(
      /"notebooks.repoTemplate" must match pattern .* \(an http\(s\) git URL containing \{user\}\)/,
    );
    expect(() => loadWebhookConfig("notebooks: {folder: relative/dir}")).toThrow(
      /"notebooks.folder" must match pattern .* \(an absolute path\)/,
    );
    expect(() => loadWebhookConfig("agent: {resources: {limits: {memory: lots}}}")).toThrow(
      /"agent.resources.limits.memory" .*a Kubernetes quantity/,
    );
  });

  it("takes the agent's port from agent.port, one it can bind without privileges", () => {
    expect(loadWebhookConfig("agent: {port: 9500}").agent.port).toBe(9500);
    for (const port of ["80", "65536", "9464.5", "'9500'", "-1"]) {
      expect(() => loadWebhookConfig(`agent: {port: ${port}}`)).toThrow(/"agent.port"/);
    }
  });

  it("rejects text that is not a mapping, and broken YAML", () => {
    expect(() => loadWebhookConfig("- a")).toThrow("webhook config must be a YAML mapping");
    expect(() => loadWebhookConfig("a: [")).toThrow("webhook config is not valid YAML");
  });
});
