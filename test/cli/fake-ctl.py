#!/usr/bin/env python3
"""A fake vlun handler control socket for the CLI tests (handler/control/ctlsock.h).

  fake-ctl.py SOCKET ANSWERS-DIR LOG

Listens on the unix socket SOCKET; for every connection reads one request line, appends
it to LOG (one line per request) and answers with one line, the first of these files of
ANSWERS-DIR that exists (read at every request, so a test changes answers between runs):

  the whole request with spaces as '_'   e.g. alua-move_shared0_2_30000_safe_vm1
  its first two words                    e.g. alua-move_shared0
  its first word                         e.g. alua-status

A file holds the answer line ("CODE TEXT"); "@close" closes the connection without
answering.  With no file the answer is "-22 fake-ctl: no answer for REQUEST".
Stops on SIGTERM; removes SOCKET when it stops.
"""
import os
import signal
import socket
import sys


def answer_for(d, req):
    words = req.split()
    names = ["_".join(words), "_".join(words[:2]), "_".join(words[:1])]
    for n in names:
        if not n or "/" in n or n.startswith("."):
            continue
        p = os.path.join(d, n)
        if os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                return f.read().rstrip("\n")
    return "-22 fake-ctl: no answer for " + req


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, d, log = argv[1:]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)

    def stop(*_):
        try:
            os.unlink(path)
        finally:
            os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        c, _ = s.accept()
        with c:
            c.settimeout(5)
            buf = b""
            try:
                while not buf.endswith(b"\n") and len(buf) < 65536:
                    k = c.recv(4096)
                    if not k:
                        break
                    buf += k
            except OSError:
                continue
            req = buf.decode("utf-8", "replace").rstrip("\n")
            with open(log, "a", encoding="utf-8") as f:
                f.write(req + "\n")
            a = answer_for(d, req)
            if a == "@close":
                continue
            try:
                c.sendall((a + "\n").encode("utf-8"))
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))
