import createDebug from "debug";

/** `DEBUG=conduit:*` shows everything; namespaces: signaling, peer, streams, server, client. */
export function log(namespace: string): createDebug.Debugger {
  return createDebug(`conduit:${namespace}`);
}
