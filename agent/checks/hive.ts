/**
 * `hive`: a HiveServer2 session opened and closed over its Thrift port, as a client does before a
 * query: SASL PLAIN (HiveServer2's transport with authentication NONE, LDAP or
 * CUSTOM), then TCLIService `OpenSession` and `CloseSession` in Thrift's binary protocol. Any
 * failure on the way — refused, SASL refused, a status other than success — is ERROR naming the
 * step. Values: `session_ms` (open and close), `protocol_version` (the one the server chose).
 */
import { setMaxListeners } from "node:events";
import net from "node:net";
import { describeNetworkError, excerpt, failedWith, resultOf } from "./outcome.js";
import type { CheckResult, CheckRunner } from "./types.js";

/** HiveServer2's replies here are a few hundred bytes; a larger frame is cut off, naming the cap. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** TProtocolVersion HIVE_CLI_SERVICE_PROTOCOL_V8 (Hive 1.2 and later understand it). */
const CLIENT_PROTOCOL = 7;

const SASL = { START: 1, OK: 2, BAD: 3, ERROR: 4, COMPLETE: 5 } as const;
const T = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;
const STATUS_CODES = ["SUCCESS", "SUCCESS_WITH_INFO", "STILL_EXECUTING", "ERROR", "INVALID_HANDLE"];

class ProtocolError extends Error {}

/** Reads length-prefixed frames from a socket, never holding more than the cap. */
class FrameReader {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      if (this.buffered.length > MAX_FRAME_BYTES + 5) {
        this.fail(new ProtocolError(`a reply larger than the ${MAX_FRAME_BYTES / 1024 / 1024} MiB cap`));
        socket.destroy();
      }
      this.waiting?.();
    });
    socket.once("error", (error) => this.fail(error));
    socket.once("close", () => this.fail(new ProtocolError("the server closed the connection")));
  }

  private fail(error: Error) {
    this.failure ??= error;
    this.waiting?.();
  }

  /** The next `count` bytes. */
  async take(count: number): Promise<Buffer> {
    while (this.buffered.length < count) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
      this.waiting = undefined;
    }
    const taken = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return taken;
  }

  async frame(announcedBy: string): Promise<Buffer> {
    const length = (await this.take(4)).readUInt32BE(0);
    if (length > MAX_FRAME_BYTES) {
      throw new ProtocolError(
        `${announcedBy} larger than the ${MAX_FRAME_BYTES / 1024 / 1024} MiB cap (${length} bytes announced)`,
      );
    }
    return this.take(length);
  }
}

function saslMessage(status: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(status, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Thrift binary protocol writing, just what two calls need. */
function field(type: number, id: number, value: Buffer): Buffer {
  const header = Buffer.alloc(3);
  header.writeUInt8(type, 0);
  header.writeInt16BE(id, 1);
  return Buffer.concat([header, value]);
}
const i32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value, 0);
  return bytes;
};
const str = (value: string) => Buffer.concat([i32(Buffer.byteLength(value)), Buffer.from(value, "utf8")]);
const struct = (...fields: Buffer[]) => Buffer.concat([...fields, Buffer.from([T.STOP])]);

function call(name: string, seqid: number, args: Buffer): Buffer {
  const message = Buffer.concat([i32((0x80010000 | 1) >> 0), str(name), i32(seqid), args]);
  return Buffer.concat([i32(message.length), message]);
}

/** Thrift binary protocol reading: a cursor over one frame that refuses to run past it. */
class Cursor {
  at = 0;
  constructor(private readonly bytes: Buffer) {}
  private need(count: number) {
    if (count < 0 || this.at + count > this.bytes.length) throw new ProtocolError("a truncated Thrift reply");
  }
  u8() {
    this.need(1);
    return this.bytes.readUInt8(this.at++);
  }
  i16() {
    this.need(2);
    const value = this.bytes.readInt16BE(this.at);
    this.at += 2;
    return value;
  }
  i32() {
    this.need(4);
    const value = this.bytes.readInt32BE(this.at);
    this.at += 4;
    return value;
  }
  bytesOf(count: number) {
    this.need(count);
    const value = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return value;
  }
  string() {
    return this.bytesOf(this.i32()).toString("utf8");
  }
  /** Skips one value of `type`; `depth` bounds nesting so garbage cannot recurse without end. */
  skip(type: number, depth = 0): void {
    if (depth > 32) throw new ProtocolError("a Thrift reply nested deeper than 32 levels");
    const fixed: Record<number, number> = {
      [T.BOOL]: 1,
      [T.BYTE]: 1,
      [T.I16]: 2,
      [T.I32]: 4,
      [T.I64]: 8,
      [T.DOUBLE]: 8,
    };
    if (fixed[type] !== undefined) return void this.bytesOf(fixed[type]);
    if (type === T.STRING) return void this.bytesOf(this.i32());
    if (type === T.STRUCT) {
      for (let t = this.u8(); t !== T.STOP; t = this.u8()) {
        this.i16();
        this.skip(t, depth + 1);
      }
      return;
    }
    if (type === T.MAP) {
      const [keyType, valueType, count] = [this.u8(), this.u8(), this.i32()];
      for (let i = 0; i < count; i++) {
        this.skip(keyType, depth + 1);
        this.skip(valueType, depth + 1);
      }
      return;
    }
    if (type === T.LIST || type === T.SET) {
      const [elementType, count] = [this.u8(), this.i32()];
      for (let i = 0; i < count; i++) this.skip(elementType, depth + 1);
      return;
    }
    throw new ProtocolError(`an unknown Thrift type ${type}`);
  }
  /** Walks a struct, handing each field to `visit`, which reads it or returns false to skip it. */
  fields(visit: (type: number, id: number) => boolean): void {
    for (let type = this.u8(); type !== T.STOP; type = this.u8()) {
      const id = this.i16();
      if (!visit(type, id)) this.skip(type);
    }
  }
}

type Status = { code: number; message: string };

/** Reads a reply's message header and its result struct's `success` field (id 0) as `read` does. */
function readReply<R>(frame: Buffer, name: string, read: (cursor: Cursor) => R): R {
  const cursor = new Cursor(frame);
  const version = cursor.i32();
  if ((version & 0xffff0000) >>> 0 !== 0x80010000) throw new ProtocolError("not a Thrift binary reply");
  const type = version & 0xff;
  const replied = cursor.string();
  cursor.i32();
  if (type === 3) {
    let message = "";
    cursor.fields((fieldType, id) => {
      if (id !== 1 || fieldType !== T.STRING) return false;
      message = cursor.string();
      return true;
    });
    throw new ProtocolError(`${name} failed: ${excerpt(message, 200)}`);
  }
  if (type !== 2 || replied !== name) throw new ProtocolError(`an unexpected reply to ${name}`);
  let result: R | undefined;
  cursor.fields((fieldType, id) => {
    if (id !== 0 || fieldType !== T.STRUCT) return false;
    result = read(cursor);
    return true;
  });
  if (result === undefined) throw new ProtocolError(`${name} answered no result`);
  return result;
}

function readStatus(cursor: Cursor): Status {
  const status: Status = { code: -1, message: "" };
  cursor.fields((type, id) => {
    if (id === 1 && type === T.I32) status.code = cursor.i32();
    else if (id === 5 && type === T.STRING) status.message = cursor.string();
    else return false;
    return true;
  });
  return status;
}

function statusProblem(step: string, status: Status): string | undefined {
  if (status.code === 0 || status.code === 1) return undefined;
  const code = STATUS_CODES[status.code] ?? String(status.code);
  return `${step} answered ${code}${status.message ? `: ${excerpt(status.message, 200)}` : ""}`;
}

/** Opens a session and closes it; resolves with the protocol version the server chose. */
async function openAndClose(socket: net.Socket, reader: FrameReader, user: string, password: string) {
  socket.write(saslMessage(SASL.START, Buffer.from("PLAIN")));
  socket.write(saslMessage(SASL.COMPLETE, Buffer.from(`\u0000${user}\u0000${password}`, "utf8")));
  const saslStatus = (await reader.take(1)).readUInt8(0);
  const saslPayload = await reader.frame("the SASL reply");
  if (saslStatus !== SASL.COMPLETE) {
    const why =
      saslStatus === SASL.BAD || saslStatus === SASL.ERROR ? "refused" : `answered status ${saslStatus}`;
    throw new ProtocolError(`SASL PLAIN ${why}: ${excerpt(saslPayload.toString("utf8"), 200)}`);
  }

  const openRequest = struct(
    field(T.I32, 1, i32(CLIENT_PROTOCOL)),
    field(T.STRING, 2, str(user)),
    field(T.STRING, 3, str(password)),
  );
  socket.write(call("OpenSession", 1, struct(field(T.STRUCT, 1, openRequest))));
  const opened = readReply(await reader.frame("the OpenSession reply"), "OpenSession", (cursor) => {
    const reply: { status?: Status; version?: number; handle?: Buffer } = {};
    cursor.fields((type, id) => {
      if (id === 1 && type === T.STRUCT) reply.status = readStatus(cursor);
      else if (id === 2 && type === T.I32) reply.version = cursor.i32();
      else if (id === 3 && type === T.STRUCT) {
        const start = cursor.at;
        cursor.skip(T.STRUCT);
        reply.handle = Buffer.from(frameSlice(cursor, start));
      } else return false;
      return true;
    });
    return reply;
  });
  const openProblem = opened.status
    ? statusProblem("OpenSession", opened.status)
    : "OpenSession answered no status";
  if (openProblem) throw new ProtocolError(openProblem);
  if (!opened.handle) throw new ProtocolError("OpenSession answered no session handle");

  socket.write(
    call("CloseSession", 2, struct(field(T.STRUCT, 1, struct(field(T.STRUCT, 1, opened.handle))))),
  );
  const closed = readReply(await reader.frame("the CloseSession reply"), "CloseSession", (cursor) => {
    let status: Status | undefined;
    cursor.fields((type, id) => {
      if (id !== 1 || type !== T.STRUCT) return false;
      status = readStatus(cursor);
      return true;
    });
    return status;
  });
  const closeProblem = closed ? statusProblem("CloseSession", closed) : "CloseSession answered no status";
  if (closeProblem) throw new ProtocolError(closeProblem);
  return opened.version ?? -1;
}

/** The bytes a cursor walked over since `start` (a struct's encoding, to send back as it came). */
function frameSlice(cursor: Cursor, start: number): Buffer {
  const end = cursor.at;
  cursor.at = start;
  return cursor.bytesOf(end - start);
}

export async function checkSession(
  host: string,
  port: number,
  credentials: { user: string; password: string },
  signal: AbortSignal,
  timeoutMs: number,
  now: () => number,
): Promise<CheckResult> {
  const target = `${host}:${port}`;
  const started = now();
  setMaxListeners(Infinity, signal);
  const socket = net.connect({ host, port, signal });
  socket.on("error", () => {});
  const reader = new FrameReader(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const version = await openAndClose(socket, reader, credentials.user, credentials.password);
    return resultOf([], { session_ms: now() - started, protocol_version: version + 1 });
  } catch (caught) {
    const why =
      caught instanceof ProtocolError ? caught.message : describeNetworkError(caught, signal, timeoutMs);
    return failedWith(`${target}: ${signal.aborted ? describeNetworkError(caught, signal, timeoutMs) : why}`);
  } finally {
    socket.destroy();
  }
}

export const checkHive: CheckRunner<"hive"> = (spec, { signal, env, now }) => {
  const user = spec.usernameEnv ? env[spec.usernameEnv] : "graft";
  const password = spec.passwordEnv ? env[spec.passwordEnv] : "graft";
  if (user === undefined || password === undefined) {
    const missing = user === undefined ? spec.usernameEnv : spec.passwordEnv;
    return Promise.resolve(failedWith(`${spec.host}:${spec.port ?? 10000}: env var ${missing} is not set`));
  }
  return checkSession(spec.host, spec.port ?? 10000, { user, password }, signal, spec.timeoutMs, now);
};
