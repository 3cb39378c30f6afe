// Type-checked in a browser-only consumer project (DOM types, no @types/node) and bundled
// with esbuild: the package's browser entry point.
import { Client, ClientDescriptor, ConnectionError, StreamManager } from "conduit-rtc/browser";

const client = new Client(
  new ClientDescriptor({ serverHost: location.hostname, serverPort: 8080, password: "secret" }),
);
const streams = new StreamManager();
streams.registerClientHandlers(client);

export async function show(canvas: HTMLCanvasElement): Promise<void> {
  await client.connect();
  try {
    for await (const frame of streams.subscribe("frames")) {
      canvas.dataset.bytes = String((frame as Uint8Array).byteLength);
    }
  } catch (err) {
    if (err instanceof ConnectionError) canvas.dataset.error = err.message;
  }
  await streams.pushToServer("metrics", { width: canvas.width });
}
