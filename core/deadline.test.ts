import { afterEach, describe, expect, it, vi } from "vitest";
import { withDeadline } from "./deadline.js";

describe("withDeadline", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("settles as the promise does, and leaves no timer behind", async () => {
    vi.useFakeTimers();
    await expect(withDeadline(Promise.resolve(7), 1000, "x")).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error("no")), 1000, "x")).rejects.toThrow("no");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects naming what did not happen and the time given", async () => {
    vi.useFakeTimers();
    const never = withDeadline(new Promise(() => {}), 2000, "Namespaces were not listed");
    const settled = expect(never).rejects.toThrow("Namespaces were not listed within 2 s");
    await vi.advanceTimersByTimeAsync(2000);
    await settled;
  });
});
