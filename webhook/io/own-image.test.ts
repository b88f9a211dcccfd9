import { describe, expect, it } from "vitest";
import { imageOf } from "./own-image.js";

describe("imageOf", () => {
  it("is the image of the container named webhook, or of the only container", () => {
    const webhook = { name: "webhook", image: "registry.local/graft:1" };
    const proxy = { name: "proxy", image: "envoy:1" };
    expect(imageOf({ spec: { containers: [proxy, webhook] } })).toBe("registry.local/graft:1");
    expect(imageOf({ spec: { containers: [{ name: "main", image: "graft:2" }] } })).toBe("graft:2");
    expect(imageOf({ spec: { containers: [proxy, { name: "other", image: "x:1" }] } })).toBeUndefined();
  });
});
