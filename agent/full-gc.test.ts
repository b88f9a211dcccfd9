import { afterEach, describe, expect, it, vi } from "vitest";
import { collectPeriodically, type ExposedGc, exposedGc, FULL_GC_EVERY_MS } from "./full-gc.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("collectPeriodically", () => {
  it("asks for an incremental full collection every period until stopped", () => {
    vi.useFakeTimers();
    const gc = vi.fn<ExposedGc>(async () => {});
    const stop = collectPeriodically(gc);
    vi.advanceTimersByTime(FULL_GC_EVERY_MS - 1);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledExactlyOnceWith({ type: "major", execution: "async" });
    vi.advanceTimersByTime(FULL_GC_EVERY_MS);
    expect(gc).toHaveBeenCalledTimes(2);
    stop();
    vi.advanceTimersByTime(10 * FULL_GC_EVERY_MS);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it("does nothing without gc (node started without --expose-gc)", () => {
    vi.useFakeTimers();
    const stop = collectPeriodically(undefined);
    expect(vi.getTimerCount()).toBe(0);
    stop();
  });

  it("finds gc only where node exposes it", () => {
    const had = Object.getOwnPropertyDescriptor(globalThis, "gc");
    try {
      Reflect.deleteProperty(globalThis, "gc");
      expect(exposedGc()).toBeUndefined();
      const gc = async () => {};
      Object.defineProperty(globalThis, "gc", { value: gc, configurable: true, writable: true });
      expect(exposedGc()).toBe(gc);
    } finally {
      Reflect.deleteProperty(globalThis, "gc");
      if (had) Object.defineProperty(globalThis, "gc", had);
    }
  });
});
