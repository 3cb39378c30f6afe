import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  type ConduitError,
  ConnectionError,
  ERROR_CODES,
  ForbiddenError,
  fromErrorReply,
  InvalidArgumentError,
  MessageTooLargeError,
  ProtocolError,
  SlowSubscriberError,
  StreamClosedError,
  StreamExistsError,
  StreamNotFoundError,
  toErrorReply,
} from "../../src/core/errors.js";

/** The class a client should see for each code a server may send. */
const CLASS_OF = {
  INVALID_ARGUMENT: InvalidArgumentError,
  AUTH_FAILED: AuthenticationError,
  RATE_LIMITED: AuthenticationError,
  TOKEN_EXPIRED: AuthenticationError,
  FORBIDDEN: ForbiddenError,
  STREAM_NOT_FOUND: StreamNotFoundError,
  STREAM_EXISTS: StreamExistsError,
  STREAM_CLOSED: StreamClosedError,
  SUBSCRIBER_TOO_SLOW: SlowSubscriberError,
  CONNECTION_FAILED: ConnectionError,
  NOT_CONNECTED: ConnectionError,
  MESSAGE_TOO_LARGE: MessageTooLargeError,
  PROTOCOL_ERROR: ProtocolError,
  LIMIT_EXCEEDED: ProtocolError,
} satisfies Record<(typeof ERROR_CODES)[number], new (...args: never[]) => ConduitError>;

describe("error replies", () => {
  it.each(ERROR_CODES)("%s comes back as its typed class, with its code and message", (code) => {
    const error = fromErrorReply({ code, message: `because ${code}` }, "cams/1");
    expect(error).toBeInstanceOf(CLASS_OF[code]);
    expect(error.code).toBe(code);
    // The stream errors say their stream; the others keep the server's message.
    const namesStream = [StreamNotFoundError, StreamExistsError, StreamClosedError];
    if (namesStream.some((c) => error instanceof c)) expect(error.message).toContain("cams/1");
    else expect(error.message).toBe(`because ${code}`);
    if ("stream" in error) expect(error.stream).toBe("cams/1");
    // And it survives the way back over the wire.
    expect(fromErrorReply(toErrorReply(error), "cams/1")).toBeInstanceOf(CLASS_OF[code]);
  });

  it("a ConnectionError's reason gives its code; the server's replies say closed or not-connected", () => {
    expect(new ConnectionError("m", "not-connected").code).toBe("NOT_CONNECTED");
    for (const reason of ["unreachable", "timeout", "link-failed", "lost", "closed"] as const) {
      expect(new ConnectionError("m", reason).code).toBe("CONNECTION_FAILED");
    }
    const closed = fromErrorReply({ code: "CONNECTION_FAILED", message: "session closed" });
    expect((closed as ConnectionError).reason).toBe("closed");
    const early = fromErrorReply({ code: "NOT_CONNECTED", message: "send the offer first" });
    expect((early as ConnectionError).reason).toBe("not-connected");
  });

  it("an unknown code (a newer server) is a ProtocolError that names it", () => {
    const error = fromErrorReply({ code: "FUTURE_THING" as never, message: "m" });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain("FUTURE_THING");
  });

  it("an error that is not conduit's goes over the wire as an internal error, with no detail", () => {
    expect(toErrorReply(new Error("secret path /etc/x"))).toEqual({
      code: "PROTOCOL_ERROR",
      message: "internal error",
    });
  });
});
