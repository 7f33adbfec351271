#!/usr/bin/env python3
"""check-includes.py: the include direction between vcpu/'s rooms.

Reads every vcpu/**/*.c and *.h under the repository root (argument 1, by
default the parent of this script's folder) and fails, one line per
offence, when a file includes a header its room may not use. The rooms and
what each may include are described in vcpu/README.md; the table below is
the rule itself.

Exit status: 0 when every include runs the allowed way, 1 otherwise.
"""
import os
import re
import sys

# Room -> what its files may include besides their own room. A room is a
# folder under vcpu/ ("." is vcpu/ itself: the shared helpers), or one of
# the folders outside vcpu/ named in OUTSIDE. "front/*" is every device's
# own folder under vcpu/front/; a device front may use the generic front
# but never another device's. vcpu/main.c assembles the VMM and may
# include anything.
ALLOWED = {
    ".": [],
    "config": [".", "proto"],
    "core": [".", "abi", "sandbox"],
    "boot": [".", "core", "abi"],
    "platform": [".", "core", "abi"],
    "vm": [".", "core", "boot", "platform", "config", "abi"],
    "virtio": [".", "core", "vm", "abi"],
    "supervisor": [".", "core", "ipc", "proto", "sandbox"],
    "front": [".", "core", "virtio", "ipc"],
    "front/*": [".", "core", "platform", "config", "vm", "virtio",
                "supervisor", "front", "ipc", "proto"],
    "api": [".", "core", "vm", "virtio", "supervisor", "ipc", "proto"],
    "isovmctl": [".", "config", "ipc", "proto", "sandbox"],
}
MAIN = "vcpu/main.c"

# Folders outside vcpu/ a room may name, by the name the table uses.
OUTSIDE = {
    "abi": "guest-drivers/abi/",
    "ipc": "ipc/",
    "proto": "proto/",
    "sandbox": "sandbox/",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*)"')


def room_of(path):
    """The room of a path below vcpu/ (vcpu/core/kvm.h -> "core")."""
    folder = os.path.dirname(path[len("vcpu/"):])
    return folder or "."


def rule_of(room):
    """The table entry that governs room, or None when there is none."""
    if room in ALLOWED:
        return room
    if room.startswith("front/") and room.count("/") == 1:
        return "front/*"
    return None


def target_of(inc):
    """The room or OUTSIDE name an include names, or None for others."""
    if inc.startswith("vcpu/"):
        return room_of(inc)
    for name, prefix in OUTSIDE.items():
        if inc.startswith(prefix):
            return name
    return None


def folder_of(name):
    """A table name as a path: "." -> vcpu/*.h, "ipc" -> ipc/."""
    if name == ".":
        return "vcpu/*.h"
    if name in OUTSIDE:
        return OUTSIDE[name]
    return "vcpu/" + name + "/"


def describe(names):
    """The allowed list as a reader would write it."""
    if not names:
        return "nothing outside its own folder"
    return ", ".join(folder_of(n) for n in names)


def check_file(root, path):
    """Offences of one file, as lines for the report."""
    room = room_of(path)
    rule = rule_of(room)
    if path != MAIN and rule is None:
        return [f"{path}: room vcpu/{room}/ is not in the table of "
                f"tests/check-includes.py (add it, and to vcpu/README.md)"]
    bad = []
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m or path == MAIN:
                continue
            inc = m.group(1)
            target = target_of(inc)
            where = f"{path}:{lineno}: #include \"{inc}\""
            if target is None:
                if not os.path.exists(os.path.join(root, inc)):
                    bad.append(f"{where}: write includes from the "
                               f"repository root (vcpu/<room>/<file>)")
                else:
                    top = inc.split("/")[0] + "/"
                    bad.append(f"{where}: vcpu/ may not include {top} "
                               f"(outside vcpu/ only "
                               f"{', '.join(OUTSIDE.values())})")
                continue
            if target == room:
                continue
            if rule == "front/*" and target.startswith("front/"):
                bad.append(f"{where}: a device front may not include "
                           f"another device's front")
                continue
            if target not in ALLOWED[rule]:
                bad.append(f"{where}: {folder_of(room)} may not include "
                           f"{folder_of(target)} (it may include "
                           f"{describe(ALLOWED[rule])})")
    return bad


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(here)
    files = []
    for dirpath, _, names in os.walk(os.path.join(root, "vcpu")):
        for n in names:
            if n.endswith((".c", ".h")):
                full = os.path.join(dirpath, n)
                files.append(os.path.relpath(full, root))
    if not files:
        print(f"check-includes: no vcpu/ sources under {root}",
              file=sys.stderr)
        return 1
    bad = []
    for path in sorted(files):
        bad.extend(check_file(root, path))
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        print(f"check-includes: {len(bad)} offence(s) against the "
              f"include rules in vcpu/README.md", file=sys.stderr)
        return 1
    print(f"check-includes: {len(files)} files under vcpu/, every include "
          f"runs the allowed way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
