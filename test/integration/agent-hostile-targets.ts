/**
 * Hostile peers on 127.0.0.1 for the agent's and the console's bounded reads: servers that
 * announce a huge length, stream forever, send garbage or say nothing. A flood writes as fast as
 * the client reads (honouring backpressure) until the client hangs up.
 */
import net, { type AddressInfo } from "node:net";
import type { Target } from "./agent-targets.js";

/** 2 GiB - 1: the largest length a 32-bit signed prefix (Kafka, RESP) can announce. */
export const HUGE = 2 ** 31 - 1;
const FILLER = Buffer.alloc(64 * 1024, "x");

/** Writes `head`, then `filler` for as long as the client reads. */
export function flood(socket: net.Socket, head: string | Buffer, filler: Buffer = FILLER): void {
  socket.on("error", () => {});
  socket.write(head);
  const pump = () => {
    while (!socket.destroyed && socket.writable && socket.write(filler)) {
      // Until the socket's buffer is full; "drain" resumes.
    }
  };
  socket.on("drain", pump);
  pump();
}

/** A TCP server calling `onConnection` for each client, closing every socket on stop. */
export async function startTcpPeer(onConnection: (socket: net.Socket) => void): Promise<Target> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers as soon as the client has sent something (a request, a command, a four-letter word). */
export function afterFirstBytes(answer: (socket: net.Socket) => void): (socket: net.Socket) => void {
  return (socket) => socket.once("data", () => answer(socket));
}

/** An HTTP reply announcing a 2 GiB body, then streaming it. */
export const httpHugeLength = afterFirstBytes((socket) =>
  flood(socket, `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${2 ** 31}\r\n\r\n`),
);

/** An HTTP reply with a chunked body that never ends. */
export const httpEndlessBody = afterFirstBytes((socket) => {
  const chunk = Buffer.concat([
    Buffer.from(`${FILLER.length.toString(16)}\r\n`),
    FILLER,
    Buffer.from("\r\n"),
  ]);
  flood(
    socket,
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    chunk,
  );
});

/** An HTTP reply whose headers never end. */
export const httpEndlessHeaders = afterFirstBytes((socket) =>
  flood(socket, "HTTP/1.1 200 OK\r\n", Buffer.from(`x-filler: ${"x".repeat(1000)}\r\n`.repeat(64))),
);

/** Bytes that are no protocol at all, then the end. */
export const garbage = (socket: net.Socket) => socket.end("\x00\xffGARBAGE\r\n\r\nnot a reply\x07\n");

/** Accepts and never sends a byte. */
export const silence = (_socket: net.Socket) => {};

/** Streams bytes without ever ending (no reply shape at all: a four-letter word's reply never closes). */
export const endlessBytes = afterFirstBytes((socket) => flood(socket, ""));

/** Redis: PONG, then INFO announced as a 2 GiB bulk string and streamed. */
export const redisHugeBulk = afterFirstBytes((socket) => flood(socket, `+PONG\r\n$${HUGE}\r\n`));

/** Redis: PONG, then a status line that never ends. */
export const redisEndlessLine = afterFirstBytes((socket) => flood(socket, "+PONG\r\n+"));

/** Redis: PONG, then a well-formed bulk string that is not INFO. */
export const redisGarbageInfo = afterFirstBytes((socket) => {
  const text = "\x00\xffGARBAGE\nnot: info\n";
  socket.write(`+PONG\r\n$${Buffer.byteLength(text)}\r\n${text}\r\n`);
});

/** Kafka: a response announced as 2 GiB, then streamed. */
export const kafkaHugeResponse = afterFirstBytes((socket) => {
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(HUGE, 0);
  flood(socket, prefix, Buffer.alloc(64 * 1024));
});

/** An HTTP reply of valid JSON just under 2 MiB: 700,000 empty objects (37 MiB once parsed). */
export const httpManyObjects = afterFirstBytes((socket) => {
  const body = `[${Array.from({ length: 699_000 }, () => "{}").join(",")}]`;
  socket.end(
    `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
});
