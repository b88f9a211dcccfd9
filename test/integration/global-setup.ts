/**
 * Compiles the console page's browser script (console/assets/app.ts) before the integration
 * tests, so a console started from the source tree serves the script as it is now, not as it was
 * at the last `npm run build`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const tsc = spawnSync("npx", ["tsc", "-p", "console/assets/tsconfig.json"], {
    cwd: root,
    encoding: "utf8",
  });
  if (tsc.status !== 0) {
    throw new Error(`the console's page script does not compile:\n${tsc.stdout}${tsc.stderr}`);
  }
}
