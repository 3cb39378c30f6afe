// Two bare node-datachannel peers on loopback with one negotiated channel: the raw baseline.
// A setup that fails outright (an occasional loopback DTLS failure under load) is tried again.
import ndc from "node-datachannel";

export interface NdcPair {
  a: ndc.DataChannel;
  b: ndc.DataChannel;
  close(): void;
}

export async function ndcPair(spec: ndc.DataChannelInitConfig): Promise<NdcPair> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pairOnce(spec);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function pairOnce(spec: ndc.DataChannelInitConfig): Promise<NdcPair> {
  const config = { iceServers: [], bindAddress: "127.0.0.1", disableAutoNegotiation: true };
  const pa = new ndc.PeerConnection("bench-a", config);
  const pb = new ndc.PeerConnection("bench-b", config);
  const held: { a: [string, string][]; b: [string, string][] } = { a: [], b: [] };
  let aRemote = false;
  let bRemote = false;
  pa.onLocalDescription((sdp, type) => {
    pb.setRemoteDescription(sdp, type);
    pb.setLocalDescription("answer");
    bRemote = true;
    for (const [c, m] of held.b) pb.addRemoteCandidate(c, m);
  });
  pb.onLocalDescription((sdp, type) => {
    pa.setRemoteDescription(sdp, type);
    aRemote = true;
    for (const [c, m] of held.a) pa.addRemoteCandidate(c, m);
  });
  pa.onLocalCandidate((c, m) => (bRemote ? pb.addRemoteCandidate(c, m) : held.b.push([c, m])));
  pb.onLocalCandidate((c, m) => (aRemote ? pa.addRemoteCandidate(c, m) : held.a.push([c, m])));
  const a = pa.createDataChannel("bench", spec);
  const b = pb.createDataChannel("bench", spec);
  const close = () => {
    pa.close();
    pb.close();
  };
  const opened = new Promise<void>((resolve, reject) => {
    let open = 0;
    const one = () => {
      if (++open === 2) resolve();
    };
    a.onOpen(one);
    b.onOpen(one);
    pa.onStateChange((state) => {
      if (state === "failed") reject(new Error("peer connection failed"));
    });
  });
  pa.setLocalDescription("offer");
  try {
    await opened;
  } catch (err) {
    close();
    throw err;
  }
  return { a, b, close };
}
