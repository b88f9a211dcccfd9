/**
 * Just enough of Redis' RESP2 protocol for a health check: send a few commands, read their
 * replies. The `redis` npm client would add a connection manager, a command queue and RESP3 for
 * three commands; this keeps the agent small and every byte under the check's signal.
 */
import net from "node:net";
import { formatBytes } from "../../core/bytes.js";

export type RespReply =
  | { kind: "simple" | "error" | "bulk"; text: string }
  | { kind: "integer"; value: number }
  | { kind: "null" };

export type Parsed =
  | { reply: RespReply; rest: Buffer }
  | { incomplete: true }
  | { garbage: string }
  | { tooLarge: string };

const CRLF = "\r\n";
/** INFO is a few KB; anything far larger is not a reply to these commands. */
export const MAX_BULK_BYTES = 1024 * 1024;
/** A status, error or integer line, or a bulk string's header: a few bytes in practice. */
export const MAX_LINE_BYTES = 64 * 1024;

/** Encodes a command the way clients send it: an array of bulk strings. */
export function encodeCommand(args: string[]): string {
  return `*${args.length}${CRLF}${args.map((arg) => `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`).join("")}`;
}

/** Parses the first reply in `buffer` (no arrays: none of the commands used here returns one). */
export function parseReply(buffer: Buffer): Parsed {
  const lineEnd = buffer.indexOf(CRLF);
  if (lineEnd < 0) {
    if (buffer.length > 0 && !"+-:$".includes(String.fromCharCode(buffer[0]!))) {
      return { garbage: buffer.subarray(0, 40).toString("latin1") };
    }
    return buffer.length > MAX_LINE_BYTES
      ? { tooLarge: `a reply line larger than the ${formatBytes(MAX_LINE_BYTES)} cap` }
      : { incomplete: true };
  }
  const type = String.fromCharCode(buffer[0]!);
  const line = buffer.subarray(1, lineEnd).toString("utf8");
  const afterLine = buffer.subarray(lineEnd + 2);
  switch (type) {
    case "+":
      return { reply: { kind: "simple", text: line }, rest: afterLine };
    case "-":
      return { reply: { kind: "error", text: line }, rest: afterLine };
    case ":": {
      const value = Number(line);
      return Number.isInteger(value)
        ? { reply: { kind: "integer", value }, rest: afterLine }
        : { garbage: buffer.subarray(0, lineEnd).toString("latin1") };
    }
    case "$": {
      const length = Number(line);
      if (length === -1) return { reply: { kind: "null" }, rest: afterLine };
      if (!Number.isInteger(length) || length < 0) {
        return { garbage: buffer.subarray(0, lineEnd).toString("latin1") };
      }
      if (length > MAX_BULK_BYTES) {
        return {
          tooLarge: `a bulk reply larger than the ${formatBytes(MAX_BULK_BYTES)} cap (${length} bytes announced)`,
        };
      }
      if (afterLine.length < length + 2) return { incomplete: true };
      return {
        reply: { kind: "bulk", text: afterLine.subarray(0, length).toString("utf8") },
        rest: afterLine.subarray(length + 2),
      };
    }
    default:
      return { garbage: buffer.subarray(0, Math.min(lineEnd, 40)).toString("latin1") };
  }
}

/** Parses INFO's `key:value` lines (section headers and blanks skipped). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export class RespProtocolError extends Error {}

/** Connects, sends `commands` pipelined, and resolves with one reply per command. */
export function respExchange(
  target: { host: string; port: number },
  commands: string[][],
  signal: AbortSignal,
): Promise<RespReply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, signal });
    const replies: RespReply[] = [];
    let buffer: Buffer = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once("connect", () => socket.write(commands.map(encodeCommand).join("")));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseReply(buffer);
        if ("incomplete" in parsed) return;
        if ("garbage" in parsed) {
          return fail(new RespProtocolError(`not a Redis reply: ${JSON.stringify(parsed.garbage)}`));
        }
        if ("tooLarge" in parsed) return fail(new RespProtocolError(parsed.tooLarge));
        replies.push(parsed.reply);
        buffer = parsed.rest;
        if (replies.length === commands.length) {
          socket.destroy();
          return resolve(replies);
        }
      }
    });
    socket.once("end", () => fail(new RespProtocolError("connection closed before every reply came")));
    socket.once("error", fail);
  });
}
