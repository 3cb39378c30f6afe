// Entry point of the browser build (`conduit-rtc/browser`): the client side of the API,
// over the browser's own RTCPeerConnection.
export { Client, type ClientStatus } from "./client.js";
export { ClientDescriptor, type ClientOptions } from "./config/client-descriptor.js";
export type { ConnectPhase, ConnectTimings } from "./connect-timings.js";
export {
  AuthenticationError,
  ConduitError,
  ConnectionError,
  type ErrorCode,
  ForbiddenError,
  InvalidArgumentError,
  MessageTooLargeError,
  ProtocolError,
  SlowSubscriberError,
  StreamClosedError,
  StreamNotFoundError,
} from "./errors.js";
export type { Delivery, LinkStats, PathReport } from "./peer/link.js";
export type { PathStats } from "./peer/path-feedback.js";
export type { StreamSummary } from "./signaling/protocol.js";
export {
  type PushToServerOptions,
  StreamManager,
  type SubscribeOptions,
} from "./streams/manager.js";
export type { Subscription, SubscriptionStats } from "./streams/subscription.js";
