#!/usr/bin/env python3
"""A slow, lossy point-to-point link between two TUN devices: the userspace stand-in for
`tc netem`, which this kernel lacks (no sch_netem module).

Usage: impair.py TUN_A TUN_B DELAY_MS LOSS SEED

Creates TUN_A and TUN_B and forwards every IP packet read from one to the other after
DELAY_MS, dropping each with probability LOSS (a seeded generator, so a run can be repeated).
The caller moves the devices into their namespaces and gives them addresses once this prints
"ready". A line "loss P" on stdin changes the drop probability; "udp off" drops every UDP packet
(what a firewall that blocks UDP does) until "udp on"; "udp off from-ns" drops only what
TUN_B (the namespace's side) sends; "rate B" makes each direction a bottleneck of B bytes per
second (packets queue behind each other, and past MAX_QUEUE_S of queue the newest is dropped,
as a router's tail drop), "rate 0" lifts it. Closing stdin stops it; it then
prints one JSON line of counts and exits, and the devices vanish with it.
"""
import collections
import fcntl
import json
import os
import random
import select
import struct
import sys
import time

# The most a rate-limited direction holds: beyond it, a packet is dropped (tail drop).
MAX_QUEUE_S = 0.2
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    name_a, name_b, delay_ms, loss, seed = sys.argv[1:6]
    delay = float(delay_ms) / 1000
    loss = float(loss)
    rng = random.Random(int(seed))
    a, b = open_tun(name_a), open_tun(name_b)
    other = {a: b, b: a}
    # Packets waiting to be written to a device, oldest first: (due time, packet).
    waiting = {a: collections.deque(), b: collections.deque()}
    counts = {fd: {"forwarded": 0, "dropped": 0} for fd in (a, b)}
    stdin = sys.stdin.fileno()
    # Per device read from: drop its UDP packets (a is the host side, b the namespace's).
    udp_blocked = {a: False, b: False}
    rate = 0.0  # bytes per second each way; 0: no limit
    # When each direction's bottleneck is free again (what it holds is sent by then).
    free_at = {a: 0.0, b: 0.0}
    print("ready", flush=True)

    while True:
        now = time.monotonic()
        timeout = None
        for fd, queue in waiting.items():
            while queue and queue[0][0] <= now:
                try:
                    os.write(fd, queue.popleft()[1])
                except OSError:
                    pass  # the device is going down
            if queue:
                wait = queue[0][0] - now
                timeout = wait if timeout is None else min(timeout, wait)
        readable, _, _ = select.select([a, b, stdin], [], [], timeout)
        if stdin in readable:
            command = os.read(stdin, 4096)
            if not command:
                break
            for line in command.decode().splitlines():
                if line.startswith("loss "):
                    loss = float(line.split()[1])
                elif line in ("udp off", "udp on"):
                    udp_blocked = {a: line == "udp off", b: line == "udp off"}
                elif line == "udp off from-ns":
                    udp_blocked[b] = True
                elif line.startswith("rate "):
                    rate = float(line.split()[1])
        for fd in (a, b):
            if fd not in readable:
                continue
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                # IPv4 protocol field (byte 9): 17 is UDP.
                blocked = udp_blocked[fd] and len(packet) > 9 and packet[9] == 17
                now = time.monotonic()
                sent_at = now
                if rate > 0:
                    start = max(now, free_at[fd])
                    if start - now > MAX_QUEUE_S:
                        blocked = True  # the bottleneck's queue is full
                    else:
                        free_at[fd] = sent_at = start + len(packet) / rate
                if blocked or rng.random() < loss:
                    counts[fd]["dropped"] += 1
                else:
                    counts[fd]["forwarded"] += 1
                    waiting[other[fd]].append((sent_at + delay, packet))

    print(json.dumps({"aToB": counts[a], "bToA": counts[b]}), flush=True)


if __name__ == "__main__":
    main()
