#!/usr/bin/env python3
"""monitor-query.py SOCKET COMMAND...: asks a QEMU human monitor (HMP) on a
unix socket each COMMAND in turn and prints the answers, without the
prompts. kvm-lab.sh uses it to record the state of a lab that froze (its
registers and local APIC) before stopping it. Gives up after a few seconds
of silence: a QEMU stuck too deep to answer still lets the caller go on."""
import socket
import sys

PROMPT = b"(qemu) "


def read_until_prompt(sock):
    data = b""
    while not data.endswith(PROMPT):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    if len(sys.argv) < 3:
        print("usage: monitor-query.py SOCKET COMMAND...", file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    try:
        sock.connect(sys.argv[1])
        read_until_prompt(sock)  # the banner
        for cmd in sys.argv[2:]:
            sock.sendall(cmd.encode() + b"\n")
            out = read_until_prompt(sock).decode(errors="replace")
            # HMP echoes the command line (with terminal escapes) first.
            lines = out.replace("\r", "").split("\n")[1:]
            text = "\n".join(l for l in lines if not l.startswith("(qemu)"))
            print("## " + cmd)
            print(text.rstrip())
    except OSError as e:
        print("monitor-query: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
