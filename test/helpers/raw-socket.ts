// A bare Socket.IO client to a conduit server (socket.io-client only, none of conduit's
// client code), for tests that play intruders, follow docs/PROTOCOL.md by hand, or send what
// conduit's Client never would. Closed at teardown.
import { io, type Socket } from "socket.io-client";
import { PASSWORD, type Resources } from "./net.js";

/** Connects (not awaited): for tests that watch how the handshake itself ends. */
export function rawSocket(
  res: Resources,
  port: number,
  auth: Record<string, unknown> = { password: PASSWORD },
  headers: Record<string, string> = {},
): Socket {
  const socket = io(`http://127.0.0.1:${port}`, {
    auth,
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: headers,
  });
  res.add(() => {
    socket.close();
  });
  return socket;
}

/** Connects and authenticates with `password`; rejects with the server's refusal. */
export async function connectedSocket(
  res: Resources,
  port: number,
  password = PASSWORD,
): Promise<Socket> {
  const socket = rawSocket(res, port, { password });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  return socket;
}
