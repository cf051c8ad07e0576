"""Why the server shortens Python's switch interval: a thread that writes to a socket between bits of work waits
for the interpreter lock after every write while other threads compute (the "convoy effect").

A script run sends each ForwardMsg through asyncio's call_soon_threadsafe, one socket write apiece, so a Draw
stroke's run is such a thread, and other sessions' runs are the busy ones. This measures a "request" of 40 writes
(a little Python between them) with 0, 1 and 3 busy threads, at Python's default 5 ms interval and at the
server's (ui/server/gil.py). Prints the medians and their ratio. Usage: python bench/gil_convoy.py [--writes 40]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time


def busy(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(i for i in range(3000))


def drain(sock: socket.socket, stop: threading.Event) -> None:
    """The event loop's end of the pipe: reads whatever was written."""
    sock.setblocking(False)
    while not stop.is_set():
        try:
            sock.recv(65536)
        except BlockingIOError:
            time.sleep(0.001)


def request(sock: socket.socket, writes: int) -> float:
    started = time.perf_counter()
    for _ in range(writes):
        sum(i for i in range(300))  # building the next element
        sock.send(b"\0")  # waking the loop, as call_soon_threadsafe does
    return time.perf_counter() - started


def measure(interval: float, n_busy: int, writes: int, repeats: int = 15) -> float:
    """Median seconds of one request at this switch interval beside n_busy computing threads."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    ours, loop_end = socket.socketpair()
    stop = threading.Event()
    threads = [threading.Thread(target=busy, args=(stop,)) for _ in range(n_busy)]
    threads.append(threading.Thread(target=drain, args=(loop_end, stop)))
    try:
        for t in threads:
            t.start()
        time.sleep(0.05)
        return statistics.median(request(ours, writes) for _ in range(repeats))
    finally:
        stop.set()
        for t in threads:
            t.join()
        ours.close()
        loop_end.close()
        sys.setswitchinterval(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--interval-ms", type=float, default=1.0, help="the shorter interval to compare")
    args = parser.parse_args()
    out = {}
    for n_busy in (0, 1, 3):
        default = measure(0.005, n_busy, args.writes)
        short = measure(args.interval_ms / 1000, n_busy, args.writes)
        out[f"busy_{n_busy}"] = {
            "default_5ms_ms": round(default * 1000, 1),
            f"interval_{args.interval_ms:g}ms_ms": round(short * 1000, 1),
            "ratio": round(default / short, 2),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
