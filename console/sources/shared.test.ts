import { describe, expect, it } from "vitest";
import { sharedRefresh } from "./shared.js";

function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("sharedRefresh", () => {
  it("gives every caller during a read that same read", async () => {
    let reads = 0;
    const pending = deferred<string>();
    const read = sharedRefresh(
      () => {
        reads++;
        return pending.promise;
      },
      { maxAgeMs: 1000 },
    );
    const answers = Promise.all([read(), read(), read(), read(), read()]);
    pending.resolve("report");
    expect(await answers).toEqual(["report", "report", "report", "report", "report"]);
    expect(reads).toBe(1);
  });

  it("answers from memory until the result is maxAgeMs old, then reads again", async () => {
    let clock = 0;
    let reads = 0;
    const read = sharedRefresh(async () => ++reads, { maxAgeMs: 10_000, now: () => clock });
    expect(await read()).toBe(1);
    clock = 9_999;
    expect(await read()).toBe(1);
    clock = 10_000;
    expect(await read()).toBe(2);
  });

  it("keeps no failure: the callers of a failed read all get its error, the next caller reads again", async () => {
    let reads = 0;
    const read = sharedRefresh(
      async () => {
        reads++;
        if (reads === 1) throw new Error("Prometheus down");
        return "back";
      },
      { maxAgeMs: 10_000 },
    );
    const failed = await Promise.allSettled([read(), read()]);
    expect(failed.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await read()).toBe("back");
    expect(reads).toBe(2);
  });
});

describe("sharedRefresh with staleForMs", () => {
  it("answers a stale result at once while one new read runs, then the new one", async () => {
    let clock = 0;
    let reads = 0;
    const pending: ((value: number) => void)[] = [];
    const read = sharedRefresh(
      () => {
        reads++;
        return new Promise<number>((resolve) => pending.push(resolve));
      },
      { maxAgeMs: 10_000, staleForMs: 50_000, now: () => clock },
    );
    const first = read();
    pending[0]!(1);
    expect(await first).toBe(1);
    clock = 20_000;
    expect(await read()).toBe(1);
    expect(await read()).toBe(1);
    expect(reads).toBe(2);
    pending[1]!(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(await read()).toBe(2);
    expect(reads).toBe(2);
  });

  it("waits for a new read once the result is older than maxAgeMs + staleForMs", async () => {
    let clock = 0;
    let reads = 0;
    const read = sharedRefresh(async () => ++reads, {
      maxAgeMs: 10_000,
      staleForMs: 50_000,
      now: () => clock,
    });
    expect(await read()).toBe(1);
    clock = 60_000;
    expect(await read()).toBe(2);
  });

  it("after a failed background read, the next caller waits for a read and sees its failure", async () => {
    let clock = 0;
    let fail = false;
    const read = sharedRefresh(
      async () => {
        if (fail) throw new Error("the Kubernetes API could not list pods");
        return "ok";
      },
      { maxAgeMs: 10_000, staleForMs: 50_000, now: () => clock },
    );
    expect(await read()).toBe("ok");
    fail = true;
    clock = 20_000;
    expect(await read()).toBe("ok");
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(read()).rejects.toThrow("could not list pods");
  });
});
