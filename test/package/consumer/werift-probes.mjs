// Run inside a consumer project after conduit-rtc has loaded its werift engine: probes each
// werift bug that conduit fixes on the werift this project installed. Prints { fix: true|false }.
import { readFileSync } from "node:fs";
import * as werift from "werift";

const probes = {};
const probe = async (name, check) => {
  try {
    probes[name] = (await check()) === true;
  } catch {
    probes[name] = false;
  }
};

// An association that is never started: the probes call its methods directly.
const idle = { subscribe: () => ({ unSubscribe() {} }) };
const sctpTransport = new werift.RTCSctpTransport();
sctpTransport.setDtlsTransport({ id: "probe", onStateChange: idle, sendData: async () => {} });
const sctp = sctpTransport.sctp;

await probe("udp-receive-buffer", async () => {
  const read = (name) => Number(readFileSync(`/proc/sys/net/core/${name}`, "utf8"));
  const udp = await werift.UdpTransport.init("udp4", { interfaceAddresses: { udp4: "127.0.0.1" } });
  const size = udp.socket.getRecvBufferSize();
  await udp.close();
  return read("rmem_max") <= read("rmem_default") || size > 2 * read("rmem_default");
});

await probe("dtls-epoch-record-numbers", () => {
  const socket = Object.create(werift.DtlsSocket.prototype);
  socket.dtls = { epoch: 0, recordSequenceNumber: 7 };
  socket.renegotiation = werift.DtlsSocket.prototype.renegotiation;
  // renegotiation() makes a fresh context; the fix then numbers each new epoch from 0.
  Object.assign(socket, { options: {}, sessionType: 1 });
  socket.renegotiation();
  socket.dtls.recordSequenceNumber = 5;
  socket.dtls.epoch = 1;
  return socket.dtls.recordSequenceNumber + 1 === 0;
});

await probe("dcep-unordered-flag", () => {
  const transport = new werift.RTCSctpTransport();
  transport.dataChannelFlush = async () => {};
  transport.dataChannelOpen({
    label: "x",
    protocol: "",
    ordered: false,
    maxRetransmits: 0,
    maxPacketLifeTime: null,
  });
  return transport.dataChannelQueue[0][2][1] === 0x81;
});

await probe("lifetime-expiry-units", async () => {
  const transport = new werift.RTCSctpTransport();
  const sent = [];
  transport.sctp = { associationState: 4, send: async (...args) => sent.push(args[3]) };
  const channel = {
    id: 1,
    ordered: false,
    maxRetransmits: null,
    maxPacketLifeTime: 100,
    addBufferedAmount() {},
  };
  transport.dataChannelQueue.push([channel, 53, Buffer.alloc(1)]);
  const before = Date.now();
  await transport.dataChannelFlush();
  const expiry = sent[0].expiry * 1000;
  return expiry >= before + 100 && expiry <= Date.now() + 100;
});

await probe("sctp-malformed-packets", async () => {
  const packet = Buffer.alloc(16);
  packet.writeUInt8(0x3f, 12); // an unknown chunk type whose high bits say "discard the packet"
  packet.writeUInt16BE(4, 14);
  packet.writeUInt32LE(werift.crc32c(packet), 8);
  await sctp.handleData(packet); // werift 0.24.4 throws "unknown" out of this promise
  return true;
});

await probe("sctp-receive-window", () => {
  Object.assign(sctp, { advertisedRwnd: 10, lastReceivedTsn: 5, sackMisOrdered: new Set() });
  sctp.receiveDataChunk({ tsn: 7, flags: 3, streamId: 1, userData: Buffer.alloc(100) });
  return sctp.sackMisOrdered.size === 0 && sctp.sackNeeded === true;
});

await probe("sctp-tsn-order", () => {
  Object.assign(sctp, { lastReceivedTsn: 8, sackMisOrdered: new Set([10]), sackDuplicates: [] });
  sctp.markReceived(9); // "10" sorts before "9" as a string
  return sctp.lastReceivedTsn === 10;
});

await probe("sctp-flight-size", () => {
  const chunk = { bookSize: 100 };
  Object.assign(sctp, { flightSize: 0 });
  sctp.flightSizeIncrease(chunk);
  sctp.flightSizeIncrease({ bookSize: 50 });
  sctp.flightSizeDecrease(chunk);
  sctp.flightSizeDecrease(chunk);
  return sctp.flightSize === 50;
});

await probe("sctp-abandon", () => {
  // A lost realtime chunk between two reliable fragments: only it is abandoned.
  const reliable = (tsn, flags) => ({ tsn, flags, streamId: 1, sentCount: 1 });
  const chunk = { tsn: 11, flags: 3, streamId: 0, maxRetransmits: 0, sentCount: 1 };
  sctp.sentQueue = [reliable(10, 2), chunk, reliable(12, 0)];
  return (
    sctp.maybeAbandon(chunk) === true &&
    chunk.abandoned === true &&
    !sctp.sentQueue[0].abandoned &&
    !sctp.sentQueue[2].abandoned
  );
});

await probe("sctp-forward-tsn", () => {
  // Fragments 21 and 22 of a reliable message came after a gap at 20 (the realtime message
  // the sender gives up on); its fragment 23 is still coming.
  const inbound = sctp.getInboundStream(1);
  inbound.reassembly = [21, 22].map((tsn) => ({
    tsn,
    flags: tsn === 21 ? 2 : 0,
    streamId: 1,
    streamSeqNum: 0,
    userData: Buffer.alloc(1),
  }));
  Object.assign(sctp, {
    lastReceivedTsn: 19,
    sackMisOrdered: new Set([21, 22]),
    sackDuplicates: [],
  });
  sctp.receiveForwardTsnChunk({ cumulativeTsn: 20, streams: [] });
  return sctp.lastReceivedTsn === 22 && inbound.reassembly.length === 2;
});

await probe("sctp-reassembly", () => {
  // Ordered messages 0 (TSNs 30, 31) and 1 (TSN 33; 32 went on another stream), both whole:
  // both go, not only the first.
  const inbound = sctp.getInboundStream(2);
  const fragment = (tsn, flags, streamSeqNum) => ({
    tsn,
    flags,
    streamId: 2,
    streamSeqNum,
    protocol: 53,
    userData: Buffer.alloc(1),
  });
  inbound.reassembly = [fragment(30, 2, 0), fragment(31, 1, 0), fragment(33, 3, 1)];
  const messages = [...inbound.popMessages()];
  return messages.length === 2 && inbound.streamSequenceNumber === 2;
});

// Last: it stops the association, so that the timer it starts does not keep the process up.
await probe("sctp-retransmission-timeout", () => {
  Object.assign(sctp, { srtt: 0.05, rttvar: 0.005 });
  sctp.updateRto(0.05); // werift: never under 1 s
  const floor = sctp.rto;
  // Chunk 2 was acknowledged in a gap block: the timeout sends only chunk 1 again.
  const chunk = (tsn, acked) => ({ tsn, acked, flags: 3, streamId: 1, bookSize: 10, sentCount: 1 });
  sctp.sentQueue = [chunk(1, false), chunk(2, true)];
  sctp.timer3Expired();
  sctp.isStopping = true;
  const [first, second] = sctp.sentQueue;
  return floor === 0.2 && sctp.rto === 0.4 && first.sentCount === 2 && second.sentCount === 1;
});

console.log(JSON.stringify(probes));
