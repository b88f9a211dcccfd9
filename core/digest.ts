/** Content digests: the names graft derives from content (e.g. a properties ConfigMap's). */
import { createHash } from "node:crypto";

/** SHA-256 of `text` (UTF-8), as lowercase hex. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
