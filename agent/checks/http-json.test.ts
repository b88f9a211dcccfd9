import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { apiUrl, basicAuthFromEnv, decodeReply, exceedsContainers } from "./http-json.js";

describe("decodeReply", () => {
  const Shape = Type.Object({ status: Type.Union([Type.Literal("green"), Type.Literal("red")]) });

  it("passes a reply of the expected shape through", () => {
    expect(decodeReply(Shape, { status: "green", extra: 1 }, "u")).toEqual({
      ok: true,
      value: { status: "green", extra: 1 },
    });
  });

  it("names the first wrong field and the target", () => {
    const reply = decodeReply(Shape, { status: "purple" }, "http://es:9200/_cluster/health");
    expect(reply).toEqual({
      ok: false,
      error: {
        cause: expect.stringMatching(/^http:\/\/es:9200\/_cluster\/health: unexpected reply: field "status"/),
        reason: "protocol",
      },
    });
  });

  it("says the reply itself is wrong when it is not an object", () => {
    expect(decodeReply(Shape, [1], "u")).toEqual({
      ok: false,
      error: {
        cause: expect.stringMatching(/^u: unexpected reply: reply/),
        reason: "protocol",
      },
    });
  });
});

describe("apiUrl", () => {
  it("joins base URLs with or without a trailing slash or a path prefix", () => {
    expect(apiUrl("http://h:1", "/x")).toBe("http://h:1/x");
    expect(apiUrl("http://h:1/gateway/pnda/deployment/", "/packages")).toBe(
      "http://h:1/gateway/pnda/deployment/packages",
    );
  });
});

describe("basicAuthFromEnv", () => {
  it("builds the header from the named env vars, else from the fallback, else none", () => {
    const spec = { usernameEnv: "U", passwordEnv: "P" };
    expect(basicAuthFromEnv(spec, { U: "elastic", P: "pw" })).toEqual({
      ok: true,
      value: { authorization: `Basic ${btoa("elastic:pw")}` },
    });
    expect(basicAuthFromEnv({}, {}, { username: "guest", password: "guest" })).toEqual({
      ok: true,
      value: { authorization: `Basic ${btoa("guest:guest")}` },
    });
    expect(basicAuthFromEnv({}, {})).toEqual({ ok: true, value: {} });
  });

  it("names the env var that is not set", () => {
    expect(basicAuthFromEnv({ usernameEnv: "U", passwordEnv: "P" }, { U: "x" })).toEqual({
      ok: false,
      error: {
        cause: "env var P (passwordEnv) is not set",
        reason: "config",
      },
    });
  });
});

describe("exceedsContainers", () => {
  it("counts objects and arrays, stopping past the limit", () => {
    expect(exceedsContainers('[{"a":[1]},{}]', 4)).toBe(false);
    expect(exceedsContainers('[{"a":[1]},{}]', 3)).toBe(true);
    expect(exceedsContainers(`[${"{},".repeat(1_000_000)}{}]`, 100_000)).toBe(true);
    expect(exceedsContainers('"no containers"', 0)).toBe(false);
  });
});
