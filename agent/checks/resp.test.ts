import { describe, expect, it } from "vitest";
import { encodeCommand, MAX_BULK_BYTES, MAX_LINE_BYTES, parseInfo, parseReply } from "./resp.js";

const parse = (text: string) => parseReply(Buffer.from(text));

describe("parseReply", () => {
  it("reads simple strings, errors, integers and bulk strings, keeping what follows", () => {
    expect(parse("+PONG\r\n")).toEqual({ reply: { kind: "simple", text: "PONG" }, rest: Buffer.alloc(0) });
    expect(parse("-NOAUTH Authentication required.\r\n+x")).toMatchObject({
      reply: { kind: "error", text: "NOAUTH Authentication required." },
      rest: Buffer.from("+x"),
    });
    expect(parse(":42\r\n")).toMatchObject({ reply: { kind: "integer", value: 42 } });
    expect(parse("$4\r\nhé!\r\n")).toMatchObject({ reply: { kind: "bulk", text: "hé!" } });
    expect(parse("$-1\r\n")).toMatchObject({ reply: { kind: "null" } });
  });

  it("waits for the rest of a reply split across packets", () => {
    expect(parse("$10\r\nabc")).toEqual({ incomplete: true });
    expect(parse("+PO")).toEqual({ incomplete: true });
  });

  it("calls anything else garbage", () => {
    expect(parse("HTTP/1.1 400 Bad Request\r\n")).toEqual({ garbage: "HTTP/1.1 400 Bad Request" });
    expect(parse("SSH-2.0")).toEqual({ garbage: "SSH-2.0" });
    expect(parse("$abc\r\n")).toHaveProperty("garbage");
  });

  it("refuses a bulk string announced over the cap before reading it, naming the cap", () => {
    expect(parse(`$${2 ** 31}\r\n`)).toEqual({
      tooLarge: "a bulk reply larger than the 1 MiB cap (2147483648 bytes announced)",
    });
    expect(parse(`$${MAX_BULK_BYTES}\r\n`)).toEqual({ incomplete: true });
  });

  it("refuses a line that never ends once it passes the cap", () => {
    expect(parse(`+${"x".repeat(MAX_LINE_BYTES)}`)).toEqual({
      tooLarge: "a reply line larger than the 64 KiB cap",
    });
    expect(parse(`+${"x".repeat(MAX_LINE_BYTES - 1)}`)).toEqual({ incomplete: true });
  });
});

describe("encodeCommand", () => {
  it("sends commands as arrays of bulk strings, lengths in bytes", () => {
    expect(encodeCommand(["AUTH", "pässword"])).toBe("*2\r\n$4\r\nAUTH\r\n$9\r\npässword\r\n");
  });
});

describe("parseInfo", () => {
  it("reads key:value lines, skipping section headers", () => {
    const info = parseInfo("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=0\r\n");
    expect(Object.fromEntries(info)).toEqual({ redis_version: "7.0.15", db0: "keys=3,expires=0" });
  });
});
