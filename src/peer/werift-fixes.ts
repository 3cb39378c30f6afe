// Fixes for werift 0.24 bugs that break or crash conduit, applied to werift's classes when the
// werift engine loads them. A library cannot patch its dependencies' files at install time
// (users install with --ignore-scripts, and hoisting moves the files), so the fixes travel
// with conduit's code and reach every install. werift keeps most of its SCTP and DTLS classes
// private, so each fix reaches its class through an exported one.

import type * as WeriftModule from "werift";
import { WERIFT_RECV_BUFFER_BYTES } from "../core/defaults.js";
import { InvalidArgumentError } from "../core/errors.js";
import { log } from "../util/log.js";
import { fixReassembly } from "./werift-reassembly.js";
import {
  fixRetransmissionTimeout,
  fixSctpPrototype,
  type Sctp,
  type SctpMethods,
  wrap,
} from "./werift-sctp-fixes.js";

type Werift = typeof WeriftModule;
const debug = log("peer");

/** The name of every fix (test/package probes each one in an installed copy). */
export const WERIFT_FIXES = [
  "udp-receive-buffer",
  "dtls-epoch-record-numbers",
  "dcep-unordered-flag",
  "lifetime-expiry-units",
  "sctp-malformed-packets",
  "sctp-receive-window",
  "sctp-tsn-order",
  "sctp-flight-size",
  "sctp-abandon",
  "sctp-forward-tsn",
  "sctp-reassembly",
  "sctp-retransmission-timeout",
] as const;

const DCEP_OPEN = 3;
const DCEP_PPID = 50;
interface DataChannel {
  id?: number;
  label: string;
  protocol: string;
  ordered: boolean;
  maxRetransmits: number | null;
  maxPacketLifeTime: number | null;
  negotiated: boolean;
  setId(id: number): void;
  addBufferedAmount(bytes: number): void;
}
interface SctpTransport {
  sctp: Sctp & { associationState: number; send: SctpSend };
  dataChannels: Record<number, DataChannel>;
  dataChannelQueue: [DataChannel, number, Buffer][];
  dataChannelId: number;
  dataChannelFlush(): Promise<void>;
}
type SctpSend = (
  streamId: number,
  ppId: number,
  data: Buffer,
  options: { ordered: boolean; expiry?: number | undefined; maxRetransmits?: number | undefined },
) => Promise<void>;

const applied = new WeakSet<object>();

/** Applies every fix to this werift module, once (the SCTP ones when it makes its first
 * association). Throws if werift is not the version they were written for. */
export function applyWeriftFixes(werift: Werift): void {
  const transport = werift.RTCSctpTransport.prototype as unknown as Record<string, unknown>;
  if (!applied.has(werift.RTCSctpTransport)) {
    for (const [what, method] of [
      [werift.UdpTransport.prototype, "init"],
      [werift.DtlsSocket.prototype, "setupExtensions"],
      [werift.DtlsSocket.prototype, "renegotiation"],
      [transport, "setDtlsTransport"],
      [transport, "dataChannelOpen"],
      [transport, "dataChannelFlush"],
    ] as const) {
      if (typeof (what as Record<string, unknown>)[method] !== "function") {
        throw new InvalidArgumentError(
          `engine: "werift" needs werift 0.24 (npm install werift@"~0.24.4"): this werift has no ${method}()`,
        );
      }
    }
    fixUdpReceiveBuffer(werift);
    fixDtlsRecordNumbers(werift);
    fixDataChannelOpen(transport);
    fixLifetimeExpiry(transport);
    fixSctpOnFirstUse(transport, werift.crc32c);
    applied.add(werift.RTCSctpTransport);
  }
}

function fixUdpReceiveBuffer(werift: Werift): void {
  wrap(
    werift.UdpTransport.prototype,
    "init",
    (init) =>
      async function (this: WeriftModule.UdpTransport) {
        await init.call(this);
        try {
          this.socket.setRecvBufferSize(WERIFT_RECV_BUFFER_BYTES);
        } catch (err) {
          debug("werift UDP receive buffer: %s", (err as Error).message);
        }
      },
  );
}

/**
 * A new DTLS epoch's first record is number 0 (RFC 6347 §4.1). werift numbered Finished on
 * from the handshake's records and then reset the counter, so a later application record
 * reused Finished's number and peers with replay protection (libdatachannel, Chromium) dropped
 * it. werift sets `epoch` only when it sends Finished: restart the numbering there.
 */
function fixDtlsRecordNumbers(werift: Werift): void {
  const numberEachEpochFromZero = (context: { epoch: number; recordSequenceNumber: number }) => {
    let epoch = context.epoch;
    Object.defineProperty(context, "epoch", {
      configurable: true,
      enumerable: true,
      get: () => epoch,
      set: (value: number) => {
        epoch = value;
        context.recordSequenceNumber = -1; // the next record, ++'d first, is number 0
      },
    });
  };
  for (const method of ["setupExtensions", "renegotiation"]) {
    wrap(
      werift.DtlsSocket.prototype,
      method,
      (original) =>
        function (this: { dtls: { epoch: number; recordSequenceNumber: number } }, ...args) {
          const result = original.apply(this, args);
          numberEachEpochFromZero(this.dtls);
          return result;
        },
    );
  }
}

/** DCEP open: werift set the channel type to the reliability bits alone, losing "unordered". */
function fixDataChannelOpen(transport: Record<string, unknown>): void {
  transport.dataChannelOpen = function (this: SctpTransport, channel: DataChannel) {
    if (channel.id !== undefined) {
      if (this.dataChannels[channel.id]) {
        throw new Error(`Data channel with ID ${channel.id} already registered`);
      }
      this.dataChannels[channel.id] = channel;
    }
    let channelType = channel.ordered ? 0x00 : 0x80;
    let reliability = 0;
    if (channel.maxRetransmits !== null) {
      channelType |= 0x01;
      reliability = channel.maxRetransmits;
    } else if (channel.maxPacketLifeTime !== null) {
      channelType |= 0x02;
      reliability = channel.maxPacketLifeTime;
    }
    const label = Buffer.from(channel.label, "utf8");
    const protocol = Buffer.from(channel.protocol, "utf8");
    const header = Buffer.alloc(12);
    header.writeUInt8(DCEP_OPEN, 0);
    header.writeUInt8(channelType, 1);
    header.writeUInt16BE(0, 2); // priority
    header.writeUInt32BE(reliability, 4);
    header.writeUInt16BE(label.length, 8);
    header.writeUInt16BE(protocol.length, 10);
    this.dataChannelQueue.push([channel, DCEP_PPID, Buffer.concat([header, label, protocol])]);
    void this.dataChannelFlush();
  };
}

/** maxPacketLifeTime is in ms and SCTP expiry in seconds: werift added ms/1000 to ms, so a
 * message never expired. Sends the queue as werift does, with the expiry in seconds. (A send
 * that fails does not reject: werift's association catches its transport's failures.) */
function fixLifetimeExpiry(transport: Record<string, unknown>): void {
  const ESTABLISHED = 4;
  transport.dataChannelFlush = async function (this: SctpTransport) {
    if (this.sctp.associationState !== ESTABLISHED) return;
    while (this.dataChannelQueue.length > 0) {
      const [channel, ppId, userData] = this.dataChannelQueue.shift() as [
        DataChannel,
        number,
        Buffer,
      ];
      let streamId = channel.id;
      if (streamId === undefined) {
        streamId = this.dataChannelId;
        while (this.dataChannels[streamId]) streamId += 2;
        this.dataChannels[streamId] = channel;
        channel.setId(streamId);
      }
      if (ppId === DCEP_PPID) {
        await this.sctp.send(streamId, ppId, userData, { ordered: true });
        continue;
      }
      const lifetime = channel.maxPacketLifeTime;
      await this.sctp.send(streamId, ppId, userData, {
        expiry: lifetime === null ? undefined : (Date.now() + lifetime) / 1000,
        maxRetransmits: channel.maxRetransmits ?? undefined,
        ordered: channel.ordered,
      });
      channel.addBufferedAmount(-userData.length);
    }
  };
}

/** werift's SCTP class is private: fix its prototype when the first association is made. */
function fixSctpOnFirstUse(
  transport: Record<string, unknown>,
  crc32c: (data: Buffer) => number,
): void {
  const fixed = new WeakSet<object>();
  wrap(
    transport,
    "setDtlsTransport",
    (setDtlsTransport) =>
      function (this: SctpTransport, ...args) {
        const result = setDtlsTransport.apply(this, args);
        const sctp = this.sctp as unknown as SctpMethods | undefined;
        if (sctp) {
          const prototype = Object.getPrototypeOf(sctp) as SctpMethods;
          if (!fixed.has(prototype)) {
            fixSctpPrototype(prototype, crc32c);
            fixReassembly(prototype);
            fixed.add(prototype);
          }
          fixRetransmissionTimeout(sctp);
        }
        return result;
      },
  );
}
