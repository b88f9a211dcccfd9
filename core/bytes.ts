/** Byte counts in the words a cause or a log line uses: "64 KiB", "2 MiB", "512 bytes". */
export function formatBytes(bytes: number): string {
  const units = [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const;
  for (const [unit, size] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** The error of a read that passed its cap: the message names the cap, so a user knows which bound hit. */
export class TooLargeError extends Error {
  constructor(
    readonly what: string,
    readonly limitBytes: number,
    announcedBytes?: number,
  ) {
    const size = announcedBytes === undefined ? "" : ` (${announcedBytes} bytes announced)`;
    super(`${what} larger than the ${formatBytes(limitBytes)} cap${size}`);
    this.name = "TooLargeError";
  }
}
