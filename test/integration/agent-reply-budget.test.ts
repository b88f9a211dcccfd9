/**
 * The agent's shared budget for reply bodies being received: reads that together would hold more
 * fail, naming it, and every byte comes back when reads end, fail or are aborted.
 */
import { afterAll, describe, expect, it } from "vitest";
import { httpRequest } from "../../agent/http-request.js";
import { ReplyBudget } from "../../agent/reply-budget.js";
import { afterFirstBytes, flood, startTcpPeer } from "./agent-hostile-targets.js";
import type { Target } from "./agent-targets.js";

const KiB = 1024;
const peers: Target[] = [];
afterAll(async () => {
  await Promise.all(peers.map((peer) => peer.stop()));
});

describe("ReplyBudget shared by the agent's reads", () => {
  it("refuses the read that would pass it, naming it, and gets every byte back", async () => {
    // Each reply sends 768 KiB of its announced 1 MiB, then stalls: the reads hold their bytes.
    const stalling = await startTcpPeer(
      afterFirstBytes((socket) => {
        socket.on("error", () => {});
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${1024 * KiB}\r\n\r\n`);
        socket.write(Buffer.alloc(768 * KiB, "x"));
      }),
    );
    peers.push(stalling);
    const budget = new ReplyBudget(2048 * KiB);
    const controller = new AbortController();
    const reads = Array.from({ length: 3 }, () =>
      httpRequest(`http://127.0.0.1:${stalling.port}/`, { signal: controller.signal, budget }).then(
        () => "answered",
        (error: Error) => error.message,
      ),
    );
    // Wait until the bytes are in: 3 × 768 KiB cannot all be held in 2 MiB.
    const settledOne = await Promise.race(reads);
    expect(settledOne).toBe("the agent's 2 MiB for replies being received is taken by other checks' replies");
    controller.abort();
    const outcomes = await Promise.all(reads);
    expect(outcomes.filter((outcome) => outcome.includes("2 MiB for replies")).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(outcomes).not.toContain("answered");
    expect(budget.freeBytes).toBe(budget.totalBytes);
  });

  it("gives back the bytes of a read that ends, and of one over its own cap", async () => {
    const body = "y".repeat(300 * KiB);
    const answering = await startTcpPeer(
      afterFirstBytes((socket) =>
        socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
      ),
    );
    const endless = await startTcpPeer(afterFirstBytes((socket) => flood(socket, "HTTP/1.1 200 OK\r\n\r\n")));
    peers.push(answering, endless);
    const budget = new ReplyBudget(1024 * KiB);
    const signal = AbortSignal.timeout(5_000);
    expect((await httpRequest(`http://127.0.0.1:${answering.port}/`, { signal, budget })).body).toHaveLength(
      body.length,
    );
    await expect(
      httpRequest(`http://127.0.0.1:${endless.port}/`, { signal, budget, maxBodyBytes: 512 * KiB }),
    ).rejects.toThrow("reply body larger than the 512 KiB cap");
    expect(budget.freeBytes).toBe(budget.totalBytes);
  });
});
