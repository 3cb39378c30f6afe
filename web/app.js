// Shared by the demo pages: the password prompt, connecting, and the status line.
import { Client, ClientDescriptor, StreamManager } from "./dist/conduit-rtc.js";

const $ = (id) => document.getElementById(id);

/** The server: the one that served the page, or `?server=host:port` (pages served elsewhere). */
function serverAddress() {
  const other = new URLSearchParams(location.search).get("server");
  if (other) {
    const [host, port] = other.split(":");
    return { serverHost: host, serverPort: Number(port), secure: false };
  }
  return {
    serverHost: location.hostname,
    serverPort: Number(location.port || (location.protocol === "https:" ? 443 : 80)),
    secure: location.protocol === "https:",
  };
}

/** WebCodecs and the camera need a secure context (https, or http://localhost): says so. */
export function requireSecureContext() {
  if (window.isSecureContext) return true;
  const status = $("status");
  status.textContent = `Video needs a secure context: open this page as http://localhost:${location.port}/… on the server's machine, or serve it over https. (${location.origin} is not one.)`;
  status.className = "error";
  return false;
}

/** Shows the password form; resolves with a connected { client, streams }. */
export function connectWithPrompt() {
  const form = $("login");
  const status = $("status");
  const remembered = sessionStorage.getItem("conduit-password");
  return new Promise((resolve) => {
    async function attempt(password) {
      status.textContent = "connecting…";
      status.className = "";
      const client = new Client(new ClientDescriptor({ ...serverAddress(), password }));
      const streams = new StreamManager();
      streams.registerClientHandlers(client);
      try {
        await client.connect();
      } catch (err) {
        status.textContent =
          err.name === "AuthenticationError"
            ? `Wrong password: ${err.message}`
            : err.reason === "unreachable"
              ? `The server did not answer (${err.message}). Is it running? Start it with npm start, then connect again.`
              : `${err.name}: ${err.message}`;
        status.className = "error";
        form.hidden = false;
        sessionStorage.removeItem("conduit-password");
        return;
      }
      sessionStorage.setItem("conduit-password", password);
      form.hidden = true;
      status.textContent = `connected as ${client.id}`;
      status.className = "ok";
      client.on("status", (s) => {
        if (s.state === "closed") {
          status.textContent = `disconnected: ${s.reason}`;
          status.className = "error";
        }
      });
      resolve({ client, streams });
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      attempt($("password").value);
    });
    if (remembered) attempt(remembered);
    else form.hidden = false;
  });
}

/** Tells the server, each second, how old what `subscription` receives is (p99), for the
 * dashboard. */
export function reportAges(streams, name, subscription) {
  setInterval(() => {
    const age = subscription.stats.ageMs;
    if (age)
      void streams.pushToServer("viewer_ages", { stream: name, p99: age.p99 }).catch(() => {});
  }, 1000);
}

/** Bits per second in human units. */
export function formatBitrate(bitsPerSecond) {
  if (!Number.isFinite(bitsPerSecond)) return "–";
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kbit/s`;
}

/** Says, under the status line, what carries this page's data, and the round trip. */
export function showTransport(client) {
  const line = document.createElement("div");
  line.id = "transport";
  $("status").after(line);
  const update = () => {
    const s = client.status.state;
    const rtt = client.linkStats()?.path?.rttMs;
    const via =
      s === "fallback"
        ? "Socket.IO relay (WebRTC could not connect)"
        : s === "connected"
          ? "WebRTC data channels"
          : s;
    line.textContent = `transport: ${via}${rtt !== undefined ? ` · round trip ${rtt.toFixed(1)} ms` : ""}`;
  };
  update();
  client.on("status", update);
  setInterval(update, 1000);
}
