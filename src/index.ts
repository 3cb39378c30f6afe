export { Client, type ClientStatus } from "./client/client.js";
export type { ConnectPhase, ConnectTimings } from "./client/connect-timings.js";
export {
  ClientDescriptor,
  type ClientOptions,
  type ReconnectPolicy,
} from "./config/client-descriptor.js";
export type { PeerOptions } from "./config/peer-options.js";
export { ServerDescriptor, type ServerOptions } from "./config/server-descriptor.js";
export { PUBLIC_DEFAULTS as defaults } from "./core/defaults.js";
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
  StreamExistsError,
  StreamNotFoundError,
} from "./core/errors.js";
export type { EngineName, IceServer } from "./peer/engine.js";
export type { LinkStats, PathReport } from "./peer/link.js";
export type { PathStats } from "./peer/path-feedback.js";
export type { OutboundStats } from "./peer/sender.js";
export { Server } from "./server/server.js";
export type { ClientStats } from "./server/session.js";
export {
  type Grants,
  mintToken,
  type TokenClaims,
} from "./signaling/tokens.js";
export type { TurnOptions } from "./signaling/turn.js";
export type { ClientStreamHandler, ClientStreamStats } from "./streams/client-streams.js";
export {
  type PushToServerOptions,
  StreamManager,
  type StreamManagerOptions,
  type StreamOptions,
  type SubscribeOptions,
} from "./streams/manager.js";
export type { Stream, StreamInfo, SubscriberStats } from "./streams/stream.js";
export type { Subscription, SubscriptionStats } from "./streams/subscription.js";
export {
  isVideoChunk,
  type VideoChunk,
  VideoRelay,
  type VideoRelayOptions,
} from "./video/index.js";
