// Entry point of the browser build (`conduit-rtc/browser`): the client side of the API,
// over the browser's own RTCPeerConnection.
export { Client, type ClientStatus } from "./client/client.js";
export type { ConnectPhase, ConnectTimings } from "./client/connect-timings.js";
export { ClientDescriptor, type ClientOptions } from "./config/client-descriptor.js";
export type { Delivery, StreamSummary } from "./core/delivery.js";
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
} from "./core/errors.js";
export type { LinkStats, PathReport } from "./peer/link.js";
export type { PathStats } from "./peer/path-feedback.js";
export {
  type PushToServerOptions,
  StreamManager,
  type SubscribeOptions,
} from "./streams/manager.js";
export type { Subscription, SubscriptionStats } from "./streams/subscription.js";
export {
  type VideoChunk,
  VideoReceiver,
  type VideoReceiverOptions,
  type VideoReceiverStats,
  VideoSender,
  type VideoSenderOptions,
  type VideoSenderStats,
} from "./video/index.js";
