// A bare Socket.IO client to a conduit server, for tests that play intruders or send what
// conduit's Client never would. Closed at teardown.
import { io, type Socket } from "socket.io-client";
import type { Server } from "../../src/index.js";
import type { Resources } from "./net.js";

export function rawSocket(
  res: Resources,
  server: Server,
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
): Socket {
  const socket = io(`http://127.0.0.1:${server.port}`, {
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
