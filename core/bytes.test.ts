import { describe, expect, it } from "vitest";
import { formatBytes, TooLargeError } from "./bytes.js";

describe("formatBytes", () => {
  it("uses the largest binary unit that divides the count", () => {
    expect(formatBytes(64 * 1024)).toBe("64 KiB");
    expect(formatBytes(2 * 1024 * 1024)).toBe("2 MiB");
    expect(formatBytes(1536)).toBe("1536 bytes");
    expect(formatBytes(0)).toBe("0 bytes");
  });
});

describe("TooLargeError", () => {
  it("names what was too large and the cap, and the announced size when known", () => {
    expect(new TooLargeError("reply body", 1024 * 1024).message).toBe("reply body larger than the 1 MiB cap");
    expect(new TooLargeError("Kafka response", 4 * 1024 * 1024, 2 ** 31 - 1).message).toBe(
      "Kafka response larger than the 4 MiB cap (2147483647 bytes announced)",
    );
  });
});
