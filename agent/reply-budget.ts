/**
 * The bytes of reply bodies the whole agent holds at once, across its checks. Each read is capped
 * on its own (2 MiB for a JSON API), but 64 checks reading three replies each could still hold
 * hundreds of MiB; past this budget a read fails, naming it. A read holds its bytes only while it
 * is being received, so one check's burst delays no other for longer than that.
 */
import { formatBytes } from "../core/bytes.js";

/**
 * 4 replies at the largest cap: far above what real targets send at once. 16 MiB let 16 hostile
 * JSON-API checks take the agent to 130 MiB of resident memory on Node 26 (its limit is 128Mi);
 * 8 MiB, with the old space capped at 48 MiB, keeps it near 95.
 */
export const DEFAULT_REPLY_BUDGET_BYTES = 8 * 1024 * 1024;

export class ReplyBudget {
  #free: number;

  constructor(readonly totalBytes: number = DEFAULT_REPLY_BUDGET_BYTES) {
    this.#free = totalBytes;
  }

  /** Takes `bytes` if they are free; false (nothing taken) if not. */
  take(bytes: number): boolean {
    if (bytes > this.#free) return false;
    this.#free -= bytes;
    return true;
  }

  give(bytes: number): void {
    this.#free = Math.min(this.totalBytes, this.#free + bytes);
  }

  get freeBytes(): number {
    return this.#free;
  }

  /** The error of a read refused for want of budget. */
  exhausted(): Error {
    return new Error(
      `the agent's ${formatBytes(this.totalBytes)} for replies being received is taken by other checks' replies`,
    );
  }
}
