#!/usr/bin/env python3
# qemu-virtio.py: runs the test guest's virtio drivers against QEMU's own
# virtio-mmio devices and checks what reached the host side.
# Usage: qemu-virtio.py GUEST CASE [poll|irq]
#   CASE: console-echo, console-bulk, blk-pattern (with blk-ro on a second,
#   read-only disk), blk-info, virtq-evil:RULE (on a blk device; QEMU flags only the
#   loop and index rules).
import os, socket, struct, subprocess, sys, tempfile, time

M64 = (1 << 64) - 1


def fnv1a64(data, h=0xcbf29ce484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & M64
    return h


def splitmix64(x):
    z = (x + 0x9e3779b97f4a7c15) & M64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def bulk_pattern(seed, n):
    out, s = bytearray(n), seed
    for i in range(n):
        s ^= (s << 13) & M64
        s ^= s >> 7
        s ^= (s << 17) & M64
        out[i] = 10 if i % 64 == 63 else 97 + s % 26
    return bytes(out)


def qemu_cmd(guest, append, devs):
    return ['qemu-system-x86_64', '-M', 'microvm,acpi=off', '-accel', 'kvm',
            '-cpu', 'host,-arch-capabilities',
            '-global', 'virtio-mmio.force-legacy=false',
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
            '-nodefaults', '-no-user-config', '-display', 'none',
            '-serial', 'stdio', '-m', '256M', '-kernel', guest,
            '-append', append] + devs


def console_devs(chardev):
    return ['-device', 'virtio-serial-device,max_ports=1',
            '-chardev', chardev, '-device', 'virtconsole,chardev=c0']


def results(out):
    lines = [l for l in out.splitlines() if l.startswith('ISOVM-TEST ')]
    res = {}
    for l in lines:
        kv = dict(w.split('=', 1) for w in l.split()[1:] if '=' in w)
        res[kv.get('name')] = kv
    return lines, res


def fail(msg, out=''):
    sys.stdout.write(out)
    print('qemu-virtio: ' + msg, file=sys.stderr)
    sys.exit(1)


def run(cmd, timeout=90):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=timeout)
    out = p.stdout.decode(errors='replace')
    if p.returncode != 1:
        fail('QEMU exit status %d, expected 1' % p.returncode, out)
    return out


def case_echo(guest, mode, tmp):
    path = os.path.join(tmp, 'con.sock')
    line = b'hello from the host 0123456789\n'
    cmd = qemu_cmd(guest, 'test=console-echo virtio-mode=' + mode,
                   console_devs('socket,id=c0,path=%s,server=on,wait=off'
                                % path))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    s = socket.socket(socket.AF_UNIX)
    for _ in range(100):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.05)
    # The guest says when its receive buffers are posted (QEMU would drop
    # earlier input); the UART is QEMU's stdout.
    head = b''
    while b'console-echo ready' not in head:
        b = p.stdout.readline()
        if not b:
            break
        head += b
    s.sendall(line)
    s.settimeout(30)
    got = b''
    while not got.endswith(b'\n'):
        b = s.recv(4096)
        if not b:
            break
        got += b
    out = (head + p.communicate(timeout=60)[0]).decode(errors='replace')
    s.close()
    if got != b'echo:' + line:
        fail('echo mismatch: %r' % got, out)
    _, res = results(out)
    r = res.get('console-echo', {})
    if r.get('status') != 'pass' or r.get('bytes') != str(len(line)):
        fail('bad result line', out)
    return out


def case_bulk(guest, mode, tmp):
    path = os.path.join(tmp, 'bulk.out')
    cmd = qemu_cmd(guest, 'test=console-bulk console-bulk.mib=2 '
                   'console-bulk.seed=7 virtio-mode=' + mode,
                   console_devs('file,id=c0,path=' + path))
    out = run(cmd)
    data = open(path, 'rb').read()
    n = 2 << 20
    head = b'ISOVM-BULK-BEGIN seed=7 bytes=%d\n' % n
    if not data.startswith(head) or data[len(head) + n:] != b'ISOVM-BULK-END\n':
        fail('bad bulk framing', out)
    body = data[len(head):len(head) + n]
    if body != bulk_pattern(7, n):
        fail('bulk body differs from the pattern', out)
    _, res = results(out)
    r = res.get('console-bulk', {})
    if r.get('status') != 'pass' or r.get('hash') != '0x%016x' % fnv1a64(body):
        fail('bad result line', out)
    return out


def case_blk(guest, mode, tmp):
    rw, ro = os.path.join(tmp, 'rw.img'), os.path.join(tmp, 'ro.img')
    size, seed = 2 << 20, 5
    with open(rw, 'wb') as f:
        f.truncate(size)
    with open(ro, 'wb') as f:
        f.write(b'\x5a' * 65536)
    devs = ['-drive', 'file=%s,if=none,id=d0,format=raw' % rw,
            '-device', 'virtio-blk-device,drive=d0',
            '-drive', 'file=%s,if=none,id=d1,format=raw,readonly=on' % ro,
            '-device', 'virtio-blk-device,drive=d1']
    out = run(qemu_cmd(guest, 'test=blk-pattern,blk-ro blk-pattern.seed=%d '
                       'virtio-mode=%s' % (seed, mode), devs))
    want = b''.join(struct.pack('<Q', splitmix64(seed + k))
                    for k in range(size // 8))
    if open(rw, 'rb').read() != want:
        fail('disk image does not hold the pattern', out)
    if open(ro, 'rb').read() != b'\x5a' * 65536:
        fail('read-only disk was changed', out)
    _, res = results(out)
    r = res.get('blk-pattern', {})
    if r.get('status') != 'pass' or r.get('hash') != '0x%016x' % fnv1a64(want):
        fail('bad blk-pattern line', out)
    r = res.get('blk-ro', {})
    if r.get('status') != 'pass' or r.get('write_status') != '1':
        fail('bad blk-ro line', out)
    return out


def case_info(guest, mode, tmp):
    img = os.path.join(tmp, 'info.img')
    first = b'sector zero stays' + b'\x11' * 495
    with open(img, 'wb') as f:
        f.write(first + b'\x22' * 512)
        f.truncate(1 << 20)
    devs = ['-drive', 'file=%s,if=none,id=d0,format=raw' % img,
            '-device', 'virtio-blk-device,drive=d0,serial=tg-serial-7']
    out = run(qemu_cmd(guest, 'test=blk-info virtio-mode=' + mode, devs))
    _, res = results(out)
    r = res.get('blk-info', {})
    if r.get('status') != 'pass' or r.get('id') != 'tg-serial-7' or \
            r.get('sectors') != str(2048) or r.get('write_zeroes') != 'ok' \
            or r.get('discard') != 'ok':
        fail('bad blk-info line', out)
    if open(img, 'rb').read(1024) != first + b'\x22' * 512:
        fail('sectors 0 and 1 were not restored', out)
    return out


def case_evil(guest, mode, tmp, rule):
    img = os.path.join(tmp, 'evil.img')
    with open(img, 'wb') as f:
        f.truncate(1 << 20)
    devs = ['-drive', 'file=%s,if=none,id=d0,format=raw' % img,
            '-device', 'virtio-blk-device,drive=d0']
    out = run(qemu_cmd(guest, 'test=virtq-evil virtq-evil=%s virtio-mode=%s'
                       % (rule, mode), devs))
    _, res = results(out)
    r = res.get('virtq-evil', {})
    if r.get('status') != 'pass' or r.get('rule') != rule or \
            r.get('needs_reset') != '1':
        fail('bad virtq-evil line', out)
    if 'isovm-testguest: uart still works' not in out:
        fail('no UART line after the evil request', out)
    return out


CASES = {'console-echo': case_echo, 'console-bulk': case_bulk,
         'blk-pattern': case_blk, 'blk-info': case_info}

if __name__ == '__main__':
    guest, case = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else 'irq'
    with tempfile.TemporaryDirectory() as tmp:
        if case.startswith('virtq-evil:'):
            out = case_evil(guest, mode, tmp, case.split(':', 1)[1])
        else:
            out = CASES[case](guest, mode, tmp)
    sys.stdout.write(out)
    lines, _ = results(out)
    if not lines or any(' status=pass' not in l for l in lines):
        fail('a test failed')
