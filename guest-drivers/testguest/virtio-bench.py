#!/usr/bin/env python3
# virtio-bench.py: the guest drivers' figures (console-bulk, blk-bench) under
# QEMU and, when its binary is given, isovm; one JSON object per run.
# Usage: virtio-bench.py GUEST [--isovm PATH] [--secs N] [--image-mib N]
import argparse, json, os, subprocess, sys, tempfile

QEMU = ['qemu-system-x86_64', '-M', 'microvm,acpi=off', '-accel', 'kvm',
        '-cpu', 'host,-arch-capabilities',
        '-global', 'virtio-mmio.force-legacy=false',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
        '-nodefaults', '-no-user-config', '-display', 'none',
        '-serial', 'stdio', '-m', '256M']

BLK_LOADS = [('randread', 4096, 1), ('randread', 4096, 16),
             ('randwrite', 4096, 1), ('read', 65536, 8)]


def result(out, name):
    for line in out.splitlines():
        if line.startswith('ISOVM-TEST name=%s ' % name):
            return dict(w.split('=', 1) for w in line.split()[1:] if '=' in w)
    return {'status': 'missing'}


def qemu_run(guest, append, devs):
    p = subprocess.run(QEMU + ['-kernel', guest, '-append', append] + devs,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       timeout=300)
    return p.stdout.decode(errors='replace')


def isovm_run(isovm, guest, append, args, sink=None):
    if sink:
        open(sink, 'wb').close()
    p = subprocess.run([isovm, 'run', '--kernel', guest, '--cmdline', append]
                       + args, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=300)
    if sink:  # the UART stream goes to the console backend too
        with open(sink, 'rb') as f:
            return f.read().decode(errors='replace')
    return p.stdout.decode(errors='replace')


def bench(vmm, run_console, run_blk, secs):
    for mode in ('poll', 'irq'):
        r = result(run_console('test=console-bulk virtio-mode=' + mode),
                   'console-bulk')
        print(json.dumps({'vmm': vmm, 'test': 'console-bulk', 'mode': mode,
                          'status': r.get('status'), 'mbps': r.get('mbps')}))
        for rw, bs, qd in BLK_LOADS:
            r = result(run_blk('test=blk-bench virtio-mode=%s blk-bench.rw=%s '
                               'blk-bench.bs=%d blk-bench.qd=%d '
                               'blk-bench.secs=%d' % (mode, rw, bs, qd, secs)),
                       'blk-bench')
            print(json.dumps({'vmm': vmm, 'test': 'blk-bench', 'mode': mode,
                              'rw': rw, 'bs': bs, 'qd': qd,
                              'status': r.get('status'),
                              'iops': r.get('iops'), 'mbps': r.get('mbps'),
                              'lat_us_mean': r.get('lat_us_mean'),
                              'lat_us_p50': r.get('lat_us_p50'),
                              'lat_us_p99': r.get('lat_us_p99')}))
            sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('guest')
    ap.add_argument('--isovm')
    ap.add_argument('--secs', type=int, default=3)
    ap.add_argument('--image-mib', type=int, default=256)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        img, sink = os.path.join(tmp, 'bench.img'), os.path.join(tmp, 'con')
        with open(img, 'wb') as f:  # real data: no holes to read fast
            for _ in range(a.image_mib):
                f.write(os.urandom(1 << 20))
        con = ['-device', 'virtio-serial-device,max_ports=1', '-chardev',
               'file,id=c0,path=' + sink, '-device', 'virtconsole,chardev=c0']
        blk = ['-drive', 'file=%s,if=none,id=d0,format=raw,cache=none,'
               'aio=native' % img, '-device', 'virtio-blk-device,drive=d0']
        bench('qemu', lambda c: qemu_run(a.guest, c, con),
              lambda c: qemu_run(a.guest, c, blk), a.secs)
        if a.isovm:
            bench('isovm',
                  lambda c: isovm_run(a.isovm, a.guest, c,
                                      ['--console', 'file:' + sink], sink),
                  lambda c: isovm_run(a.isovm, a.guest, c,
                                      ['--disk', 'path=%s,cache=none' % img]),
                  a.secs)


if __name__ == '__main__':
    main()
