#!/usr/bin/env python3
"""Minimal raw PF_KEY v2 client for the VM tests (stdlib only).

  pfkey.py open                 open and close a socket
  pfkey.py hold SECONDS         keep a socket open for a while
  pfkey.py open-type dgram      socket of the wrong type
  pfkey.py open-proto N         socket with protocol N
Errors print "errno=N" and exit 1.
"""
import errno
import socket
import sys
import time

AF_KEY = 15
PF_KEY_V2 = 2


def open_socket(stype=socket.SOCK_RAW, proto=PF_KEY_V2):
    return socket.socket(AF_KEY, stype, proto)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "open"
    try:
        if cmd == "open":
            open_socket().close()
        elif cmd == "hold":
            s = open_socket()
            time.sleep(float(argv[2]))
            s.close()
        elif cmd == "open-type":
            open_socket(stype={"dgram": socket.SOCK_DGRAM, "stream": socket.SOCK_STREAM}[argv[2]]).close()
        elif cmd == "open-proto":
            open_socket(proto=int(argv[2])).close()
        else:
            print("unknown command", cmd, file=sys.stderr)
            return 2
    except OSError as e:
        print(f"errno={e.errno} ({errno.errorcode.get(e.errno, '?')})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
