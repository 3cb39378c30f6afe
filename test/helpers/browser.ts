import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Headless Debian Chromium, run inside `ns` so its WebRTC candidates are on the test's own
 * network. Fails, saying how to install it, where Chromium is missing.
 */
export async function launchChromium(ns: {
  wrapper(executable: string): string;
}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: ns.wrapper(CHROMIUM),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Real host addresses in candidates instead of mDNS names; and pages served at
      // localhost (a secure context, for WebCodecs) may reach the server's private address
      // without the local-network-access prompt a person would answer.
      "--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks",
      "--use-fake-ui-for-media-stream",
    ],
  });
}
