import { LINK_RETRY_DELAYS_MS } from "../../src/core/defaults.js";

/** libdatachannel now and then fails a handshake outright under load (see
 * client/link-setup.ts): `setUp` (undefined: it failed) is made again from fresh peers, on the
 * Client's schedule, until one opens. */
export async function retrySetup<T>(what: string, setUp: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const made = await setUp();
    if (made !== undefined) return made;
    const pause = LINK_RETRY_DELAYS_MS[attempt];
    if (pause === undefined) throw new Error(`${what}: no setup opened`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
