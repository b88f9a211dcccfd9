/**
 * Headless Debian Chromium (install: chromium/install.sh) through playwright-core, which drives
 * a browser it is given and downloads none.
 */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.GRAFT_CHROMIUM ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}
