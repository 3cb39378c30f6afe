// conduit-rtc/video: encoded video over conduit streams. VideoSender and VideoReceiver run
// where WebCodecs does (browsers); VideoRelay runs on the server.
export { controlOf, isVideoChunk, keyframeRequestsOf, type VideoChunk } from "./chunk.js";
export {
  VideoReceiver,
  type VideoReceiverOptions,
  type VideoReceiverStats,
} from "./receiver.js";
export { VideoRelay, type VideoRelayOptions } from "./relay.js";
export { VideoSender, type VideoSenderOptions, type VideoSenderStats } from "./sender.js";
