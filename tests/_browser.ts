/**
 * Headless Chromium for tests (Debian's `chromium`, installed by `deno task setup --browser`), driven
 * by playwright-core. The flags keep it from reaching for Google's hosts on a closed network.
 */
import { type Browser, chromium } from "playwright-core";
import { findChromium } from "../lib/env/setup.ts";

/** Launches headless Chromium, or fails saying how to install it. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error("Chromium not found: run `deno task setup --browser` (or set INCE_CHROMIUM).");
  }
  return await chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
