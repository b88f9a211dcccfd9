import { describe, expect, it } from "vitest";
import { renderableCopy } from "../../model/feature.js";
import type { PodLike } from "../../model/kube.js";
import { renderPropertiesMount } from "./mount.js";

const spec = {
  configMapName: "graft-props-traffic-aggregator-c87ea52211",
  mountPath: "/etc/graft",
  skipContainers: new Set(["graft-agent"]),
};

function pod(): PodLike {
  return {
    metadata: { name: "p" },
    spec: {
      containers: [
        { name: "app", image: "app", env: [{ name: "JAVA_TOOL_OPTIONS", value: "-Xmx512m" }] },
        { name: "graft-agent", image: "graft" },
      ],
    },
  };
}

describe("renderPropertiesMount", () => {
  it("mounts the ConfigMap read-only into app containers, names the file and puts the directory on the JVM class path", () => {
    const rendered = pod();
    expect(renderPropertiesMount(rendered, spec)).toEqual([]);
    expect(rendered.spec).toEqual({
      containers: [
        {
          name: "app",
          image: "app",
          env: [
            { name: "JAVA_TOOL_OPTIONS", value: "-Xmx512m -Xbootclasspath/a:/etc/graft" },
            { name: "GRAFT_PROPERTIES_FILE", value: "/etc/graft/application.properties" },
          ],
          volumeMounts: [{ name: "graft-properties", mountPath: "/etc/graft", readOnly: true }],
        },
        { name: "graft-agent", image: "graft" },
      ],
      volumes: [
        {
          name: "graft-properties",
          configMap: {
            name: "graft-props-traffic-aggregator-c87ea52211",
            items: [{ key: "application.properties", path: "application.properties" }],
            defaultMode: 0o644,
          },
        },
      ],
    });
  });

  it("renders onto a renderable copy without changing the pod it was copied from, JAVA_TOOL_OPTIONS included", () => {
    const received = pod();
    const before = structuredClone(received);
    const rendered = renderableCopy(received);
    renderPropertiesMount(rendered, spec);
    expect(received).toEqual(before);
    expect(rendered.spec?.containers[0]?.env?.[0]?.value).toBe("-Xmx512m -Xbootclasspath/a:/etc/graft");
  });

  it("renders the same pod when run twice", () => {
    const once = pod();
    renderPropertiesMount(once, spec);
    const twice = structuredClone(once);
    renderPropertiesMount(twice, spec);
    expect(twice).toEqual(once);
  });

  it("uses the mount path given, trailing slash or not", () => {
    const rendered = pod();
    renderPropertiesMount(rendered, { ...spec, mountPath: "/opt/app/conf/" });
    const app = rendered.spec!.containers[0]!;
    expect(app.volumeMounts).toEqual([
      { name: "graft-properties", mountPath: "/opt/app/conf", readOnly: true },
    ]);
    expect(app.env).toContainEqual({
      name: "GRAFT_PROPERTIES_FILE",
      value: "/opt/app/conf/application.properties",
    });
  });

  it("sets JAVA_TOOL_OPTIONS when the container has none, and warns when envFrom might have set one", () => {
    const rendered: PodLike = {
      spec: { containers: [{ name: "app", envFrom: [{ configMapRef: { name: "env" } }] }] },
    };
    const warnings = renderPropertiesMount(rendered, spec);
    expect(rendered.spec!.containers[0]!.env).toContainEqual({
      name: "JAVA_TOOL_OPTIONS",
      value: "-Xbootclasspath/a:/etc/graft",
    });
    expect(warnings).toEqual([
      expect.stringMatching(/container "app" has envFrom: if it sets JAVA_TOOL_OPTIONS/),
    ]);
  });

  it("leaves a JAVA_TOOL_OPTIONS from valueFrom alone, with a warning saying what to add", () => {
    const fromSecret = {
      name: "JAVA_TOOL_OPTIONS",
      valueFrom: { configMapKeyRef: { name: "jvm", key: "opts" } },
    };
    const rendered: PodLike = { spec: { containers: [{ name: "app", env: [fromSecret] }] } };
    const warnings = renderPropertiesMount(rendered, spec);
    expect(rendered.spec!.containers[0]!.env).toContainEqual(fromSecret);
    expect(warnings).toEqual([expect.stringContaining('add "-Xbootclasspath/a:/etc/graft" to it yourself')]);
  });

  it("does not mount over another volume at the same path, and says which annotation moves it", () => {
    const rendered: PodLike = {
      spec: { containers: [{ name: "app", volumeMounts: [{ name: "conf", mountPath: "/etc/graft" }] }] },
    };
    const warnings = renderPropertiesMount(rendered, spec);
    expect(rendered.spec!.containers[0]!.volumeMounts).toEqual([{ name: "conf", mountPath: "/etc/graft" }]);
    expect(warnings).toEqual([
      expect.stringMatching(/already mounts volume "conf" at \/etc\/graft.*properties-mount-path/),
    ]);
  });
});
