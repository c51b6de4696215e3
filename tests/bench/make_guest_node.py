#!/usr/bin/env python3
"""make_guest_node.py — writes the file tree of a Proxmox VE node with N running guests.

usage: make_guest_node.py DIR [--guests=100] [--node=pve3] [--cpus=64] [--seed=1]
                              [--force] [--check=PATH/TO/pvescope-agent]

DIR receives, as the agent's --path.* flags expect them:
  proc/      stat, meminfo, loadavg, uptime, misc, pressure/*, diskstats, net/dev,
             sys/kernel/random/boot_id, and /proc/<pid>/{stat,cmdline,cgroup,
             task/<pid>/children} of every guest process
  sys/       block/, dev/block/M:m and devices/ (symlinked as in real sysfs),
             fs/cgroup/qemu.slice/<vmid>.scope/, lxc/<vmid>/, lxc.monitor/<vmid>/
  run/       qemu-server/<vmid>.{pid,qmp,vnc}
  etc/pve/   .members, .vmlist, nodes/<node>/{qemu-server,lxc}/<vmid>.conf (with the
             qemu-server, lxc and local symlinks pmxcfs shows), storage.cfg
  (rootfs)   usr/share/perl5/PVE/pvecfg.pm and the dir storages' paths (--path.rootfs=DIR)
  guests.json  what the agent must report for each guest (used by --check)

The node: 7 of every 10 guests are QEMU VMs (2 NICs behind the PVE firewall,
so tap, fwbr, fwpr and fwln devices per NIC; 2 thin LVs), the others
containers (1 veth NIC without firewall; a rootfs LV, and for the vmids
ending in 6 a mount point LV too). All run. Storage is LVM-thin pve/data on nvme0n1p3, so every
guest disk is a dm device whose io.stat I/O also shows on the pool's tdata
device and on nvme0n1, as in a real node. Values are deterministic for a seed.
With --guests=0 the same node has no guests: the baseline for a per-guest cost.

--check runs `pvescope-agent --dump` on the tree and exits 1 unless every
collector succeeded without warning and every guest is reported running with
the values in guests.json.

Python standard library only.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

HZ = 100                              # USER_HZ of every x86 Proxmox kernel
UPTIME = 1209843.41                   # the node booted 14 days ago
BOOT_UNIX = 1766000000
MIB = 1 << 20
GIB = 1 << 30
MARKER = ".make_guest_node"           # lets --force replace only a tree made here

HOST_NICS = ["lo", "eno1", "eno2", "enp65s0f0", "enp65s0f1", "bond0", "vmbr0", "vmbr1"]
ROLES = ["web", "db", "app", "ci", "mail", "dns", "mon", "git", "proxy", "cache", "build", "vpn"]

# memory.stat keys of a 6.8 kernel (PVE 8), in kernel order; "file" is the one
# the agent subtracts. Values other than anon and file are small fillers.
MEMSTAT_KEYS = [
    "anon", "file", "kernel", "kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock",
    "vmalloc", "shmem", "zswap", "zswapped", "file_mapped", "file_dirty", "file_writeback",
    "swapcached", "anon_thp", "file_thp", "shmem_thp", "inactive_anon", "active_anon",
    "inactive_file", "active_file", "unevictable", "slab_reclaimable", "slab_unreclaimable", "slab",
    "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
    "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
    "workingset_nodereclaim", "pgscan", "pgsteal", "pgscan_kswapd", "pgscan_direct",
    "pgscan_khugepaged", "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgfault",
    "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "zswpin",
    "zswpout", "zswpwb", "thp_fault_alloc", "thp_collapse_alloc", "thp_swpout",
    "thp_swpout_fallback",
]


class Tree:
    """Writes files and symlinks below one root."""

    def __init__(self, root):
        self.root = root

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, data):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    def mkdir(self, rel):
        os.makedirs(self.path(rel), exist_ok=True)

    def symlink(self, rel, target_rel):
        """rel -> target_rel, both relative to the root; the link is relative."""
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(os.path.relpath(self.path(target_rel), os.path.dirname(p)), p)


# ---- block devices ----------------------------------------------------------------

class BlockDev:
    def __init__(self, name, major, minor, sysdir, dm_name=None, dm_uuid=None, parent=None,
                 partno=None, sectors=0):
        self.name, self.major, self.minor = name, major, minor
        self.sysdir = sysdir                  # sys/devices/... directory of the device
        self.dm_name, self.dm_uuid = dm_name, dm_uuid
        self.parent, self.partno = parent, partno
        self.sectors = sectors
        self.io = [0, 0, 0, 0]                # rbytes, wbytes, rios, wios (for diskstats)

    @property
    def devnum(self):
        return f"{self.major}:{self.minor}"


class Node:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.t = Tree(a.dir)
        self.devs = []                        # in the order /proc/diskstats lists them
        self.netdev_rows = []                 # (name, 16 counters)
        self.guests = []                      # expected values, for guests.json
        self.next_pid = 1900
        self.next_dm = 0
        self.vg_uuid = self.uuid32()

    # -- small helpers ---------------------------------------------------------
    def uuid32(self):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(alphabet) for _ in range(32))

    def uuid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def mac(self, vmid, n):
        return "BC:24:11:%02X:%02X:%02X" % ((vmid >> 8) & 0xFF, vmid & 0xFF, n)

    def pid(self):
        self.next_pid += self.rng.randint(3, 400)
        return self.next_pid

    # -- block devices -----------------------------------------------------------
    def add_dev(self, d):
        self.devs.append(d)
        t = self.t
        t.write(f"{d.sysdir}/dev", f"{d.devnum}\n")
        t.write(f"{d.sysdir}/size", f"{d.sectors}\n")
        uevent = f"MAJOR={d.major}\nMINOR={d.minor}\nDEVNAME={d.name}\n"
        uevent += f"DEVTYPE=partition\nPARTN={d.partno}\n" if d.parent else "DEVTYPE=disk\n"
        t.write(f"{d.sysdir}/uevent", uevent)
        if d.parent:
            t.write(f"{d.sysdir}/partition", f"{d.partno}\n")
        else:
            t.symlink(f"sys/block/{d.name}", d.sysdir)
        t.symlink(f"sys/dev/block/{d.devnum}", d.sysdir)
        if d.dm_name:
            t.write(f"{d.sysdir}/dm/name", f"{d.dm_name}\n")
            t.write(f"{d.sysdir}/dm/uuid", f"{d.dm_uuid}\n")
            t.write(f"{d.sysdir}/dm/suspended", "0\n")
            t.mkdir(f"{d.sysdir}/slaves")
            t.mkdir(f"{d.sysdir}/holders")
        return d

    def disk(self, name, major, minor, sysdir, sectors):
        return self.add_dev(BlockDev(name, major, minor, sysdir, sectors=sectors))

    def partition(self, disk, partno, minor, sectors):
        name = disk.name + ("p" if disk.name[-1].isdigit() else "") + str(partno)
        return self.add_dev(BlockDev(name, disk.major, minor, f"{disk.sysdir}/{name}", parent=disk,
                                     partno=partno, sectors=sectors))

    def dm(self, vg, lv, layer, slaves, sectors):
        n = self.next_dm
        self.next_dm += 1
        dm_name = "-".join(x.replace("-", "--") for x in (vg, lv)) + (f"-{layer}" if layer else "")
        uuid = f"LVM-{self.vg_uuid}{self.uuid32()}" + (f"-{layer}" if layer else "")
        d = self.add_dev(BlockDev(f"dm-{n}", 252, n, f"sys/devices/virtual/block/dm-{n}",
                                  dm_name=dm_name, dm_uuid=uuid, sectors=sectors))
        for s in slaves:
            self.t.symlink(f"{d.sysdir}/slaves/{s.name}", s.sysdir)
            self.t.symlink(f"{s.sysdir}/holders/{d.name}", d.sysdir)
        return d

    def host_block(self):
        for i in range(8):
            self.disk(f"loop{i}", 7, i, f"sys/devices/virtual/block/loop{i}", 0)
        pci = "sys/devices/pci0000:40/0000:40:01.1/0000:41:00.0/nvme/nvme0"
        self.nvme = self.disk("nvme0n1", 259, 0, f"{pci}/nvme0n1", 3750748848)
        self.partition(self.nvme, 1, 1, 2014)
        self.partition(self.nvme, 2, 2, 2097152)
        self.pv = self.partition(self.nvme, 3, 3, 3748649615)
        ata = "sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block"
        self.sda = self.disk("sda", 8, 0, f"{ata}/sda", 15628053168)
        self.partition(self.sda, 1, 1, 15628050432)
        self.dm("pve", "swap", None, [self.pv], 16777216)
        self.dm("pve", "root", None, [self.pv], 201326592)
        self.tmeta = self.dm("pve", "data_tmeta", None, [self.pv], 33554432)
        self.tdata = self.dm("pve", "data_tdata", None, [self.pv], 3456106496)
        self.tpool = self.dm("pve", "data", "tpool", [self.tmeta, self.tdata], 3456106496)
        self.dm("pve", "data", None, [self.tpool], 3456106496)

    def thin_lv(self, vmid, k, size_gib):
        return self.dm("pve", f"vm-{vmid}-disk-{k}", None, [self.tpool], size_gib * GIB // 512)

    # -- network --------------------------------------------------------------------
    def netdev(self, name, rx_bytes, rx_pkts, tx_bytes, tx_pkts, rx_drop=0, rx_mcast=0):
        self.netdev_rows.append((name, [rx_bytes, rx_pkts, 0, rx_drop, 0, 0, 0, rx_mcast,
                                        tx_bytes, tx_pkts, 0, 0, 0, 0, 0, 0]))

    def traffic(self):
        rx = self.rng.randint(10**8, 10**12)
        tx = self.rng.randint(10**8, 10**12)
        return rx, rx // self.rng.randint(600, 1400), tx, tx // self.rng.randint(600, 1400)

    # -- guests -----------------------------------------------------------------------
    def cgroup_files(self, base, usage_usec, mem_current, mem_file, mem_max, swap, io_rows, procs):
        t, r = self.t, self.rng
        user = usage_usec * r.randint(60, 90) // 100
        t.write(f"{base}/cpu.stat",
                f"usage_usec {usage_usec}\nuser_usec {user}\nsystem_usec {usage_usec - user}\n"
                "core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"
                "nr_bursts 0\nburst_usec 0\n")
        t.write(f"{base}/memory.current", f"{mem_current}\n")
        anon = mem_current - mem_file - r.randint(MIB, 64 * MIB)
        vals = {k: r.randint(0, 1 << 20) for k in MEMSTAT_KEYS}
        vals.update(anon=anon, file=mem_file, active_file=mem_file // 3,
                    inactive_file=mem_file - mem_file // 3, active_anon=anon // 50,
                    inactive_anon=anon - anon // 50, anon_thp=anon // 2 // (2 * MIB) * (2 * MIB))
        t.write(f"{base}/memory.stat", "".join(f"{k} {vals[k]}\n" for k in MEMSTAT_KEYS))
        t.write(f"{base}/memory.max", "max\n" if mem_max is None else f"{mem_max}\n")
        t.write(f"{base}/memory.swap.current", f"{swap}\n")
        t.write(f"{base}/io.stat", "".join(
            f"{dev} rbytes={rb} wbytes={wb} rios={ri} wios={wi} dbytes=0 dios=0\n"
            for dev, (rb, wb, ri, wi) in io_rows))
        for res in ("cpu", "io", "memory"):
            s10, f10 = r.randint(0, 300) / 100, r.randint(0, 100) / 100
            some, full = r.randint(10**6, 10**10), r.randint(10**5, 10**9)
            t.write(f"{base}/{res}.pressure",
                    f"some avg10={s10:.2f} avg60={s10 * 0.9:.2f} avg300={s10 * 0.8:.2f} total={some}\n"
                    f"full avg10={f10:.2f} avg60={f10 * 0.9:.2f} avg300={f10 * 0.8:.2f} total={full}\n")
        t.write(f"{base}/cgroup.procs", "".join(f"{p}\n" for p in procs))
        t.write(f"{base}/cpu.max", "max 100000\n")
        t.write(f"{base}/cpu.weight", "100\n")

    def disk_io(self, lvs):
        """io.stat rows for a guest's thin LVs, plus the pool's tdata and the NVMe
        below them, which see the same bios again (dm clones keep the cgroup)."""
        rows, tot = [], [0, 0, 0, 0]
        for lv in lvs:
            ri, wi = self.rng.randint(10**4, 10**7), self.rng.randint(10**4, 10**7)
            v = [ri * self.rng.randint(8, 64) * 512, wi * self.rng.randint(8, 32) * 512, ri, wi]
            rows.append((lv.devnum, v))
            for d in (lv, self.tpool, self.tdata, self.nvme, self.pv):
                d.io = [x + y for x, y in zip(d.io, v)]
            tot = [x + y for x, y in zip(tot, v)]
        rows.append((self.tdata.devnum, tot))
        rows.append((self.nvme.devnum, [x + x // 50 for x in tot]))
        rows.sort(key=lambda row: tuple(int(x) for x in row[0].split(":")))
        own = [v for dev, v in rows if dev in {lv.devnum for lv in lvs}]
        return rows, sum(v[0] for v in own), sum(v[1] for v in own)

    def pid_stat(self, pid, comm, ppid, start, threads, utime, stime, vsize, rss):
        return (f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 138412352 4881204 0 1803 0 {utime} {stime} "
                f"0 0 20 0 {threads} 0 {start} {vsize} {rss} 18446744073709551615 1 1 0 0 0 0 "
                "268444224 4096 16963 0 0 0 17 7 0 0 0 0 0 0 0 0 0 0 0 0 0\n")

    def cpu_usage_usec(self, start_ticks, cores):
        """CPU time of a guest that has used 2..60 % of its cores since it started."""
        return int((UPTIME - start_ticks / HZ) * cores * self.rng.uniform(0.02, 0.6) * 1e6)

    def start_ticks(self):
        return self.rng.randint(3000, int(UPTIME * HZ) - 6000)

    def vm(self, vmid, name, slot):
        t, r = self.t, self.rng
        cores = r.choice([2, 2, 4, 4, 4, 8])
        mem_mib = r.choice([2048, 4096, 4096, 8192, 8192, 16384])
        sizes = [32, r.choice([50, 100, 200, 500])]
        lvs = [self.thin_lv(vmid, k, s) for k, s in enumerate(sizes)]
        pid, start = self.pid(), self.start_ticks()
        mem_current = mem_mib * MIB * r.randint(70, 102) // 100 + 180 * MIB
        mem_file = r.randint(8, 64) * MIB
        usage = self.cpu_usage_usec(start, cores)
        io_rows, rd, wr = self.disk_io(lvs)
        base = f"sys/fs/cgroup/qemu.slice/{vmid}.scope"
        self.cgroup_files(base, usage, mem_current, mem_file, None, 0, io_rows, [pid])
        t.write(f"run/qemu-server/{vmid}.pid", f"{pid}\n")
        t.write(f"run/qemu-server/{vmid}.qmp", "")      # sockets on a real node
        t.write(f"run/qemu-server/{vmid}.vnc", "")
        t.write(f"proc/{pid}/stat", self.pid_stat(pid, "kvm", 1, start, 8 + cores, usage // 10**4 * 8 // 10,
                                                  usage // 10**4 * 2 // 10, 10285813760, mem_current // 4096))
        t.write(f"proc/{pid}/cgroup", f"0::/qemu.slice/{vmid}.scope\n")
        t.write(f"proc/{pid}/cmdline", self.kvm_cmdline(vmid, name, cores, mem_mib, len(sizes)))
        nics, net_in, net_out = [], 0, 0
        for n in range(2):
            rx, rxp, tx, txp = self.traffic()
            bridge_rx = rx - rx // 1000
            self.netdev(f"tap{vmid}i{n}", rx, rxp, tx, txp)
            self.netdev(f"fwbr{vmid}i{n}", bridge_rx, rxp - rxp // 1000, 0, 0)
            self.netdev(f"fwpr{vmid}p{n}", tx, txp, rx, rxp)
            self.netdev(f"fwln{vmid}i{n}", rx, rxp, tx, txp)
            nics.append(f"tap{vmid}i{n}")
            net_in += tx
            net_out += rx
        conf = [
            "agent: 1",
            "boot: order=scsi0;ide2;net0",
            f"cores: {cores}",
            "cpu: x86-64-v2-AES",
            "ide2: none,media=cdrom",
            f"memory: {mem_mib}",
            f"meta: creation-qemu=8.1.5,ctime={BOOT_UNIX - r.randint(10**6, 10**8)}",
            f"name: {name}",
            f"net0: virtio={self.mac(vmid, 0)},bridge=vmbr0,firewall=1,tag={100 + slot % 8}",
            f"net1: virtio={self.mac(vmid, 1)},bridge=vmbr1,firewall=1",
            "numa: 0",
            "onboot: 1",
            "ostype: l26",
            f"scsi0: local-lvm:vm-{vmid}-disk-0,discard=on,iothread=1,size={sizes[0]}G",
            f"scsi1: local-lvm:vm-{vmid}-disk-1,discard=on,iothread=1,size={sizes[1]}G",
            "scsihw: virtio-scsi-single",
            f"smbios1: uuid={self.uuid()}",
            "sockets: 1",
            f"tags: {ROLES[slot % len(ROLES)]};prod",
            f"vmgenid: {self.uuid()}",
        ]
        t.write(f"etc/pve/nodes/{self.a.node}/qemu-server/{vmid}.conf", "\n".join(conf) + "\n")
        return {"vmid": vmid, "type": "qemu", "name": name, "pid": pid,
                "uptime_seconds": round(UPTIME - start / HZ, 2), "cpu_seconds": usage / 1e6,
                "memory_bytes": mem_current - mem_file, "memory_limit_bytes": None, "swap_bytes": 0,
                "disk_read_bytes": rd, "disk_written_bytes": wr, "disks": [lv.dm_name for lv in lvs],
                "nics": nics, "net_in_bytes": net_in, "net_out_bytes": net_out}

    def kvm_cmdline(self, vmid, name, cores, mem_mib, n_disks):
        run = "/var/run/qemu-server"
        argv = ["/usr/bin/kvm", "-id", str(vmid), "-name", f"{name},debug-threads=on", "-no-shutdown",
                "-chardev", f"socket,id=qmp,path={run}/{vmid}.qmp,server=on,wait=off",
                "-mon", "chardev=qmp,mode=control",
                "-chardev", "socket,id=qmp-event,path=/var/run/qmeventd.sock,reconnect-ms=5000",
                "-mon", "chardev=qmp-event,mode=control",
                "-pidfile", f"{run}/{vmid}.pid", "-daemonize",
                "-smbios", f"type=1,uuid={self.uuid()}",
                "-smp", f"{cores},sockets=1,cores={cores},maxcpus={cores}", "-nodefaults",
                "-boot", "menu=on,strict=on,reboot-timeout=1000,splash=/usr/share/qemu-server/bootsplash.jpg",
                "-vnc", f"unix:{run}/{vmid}.vnc,password=on",
                "-cpu", "qemu64,+aes,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+pni,+popcnt,+sse4.1,+sse4.2,+ssse3",
                "-m", str(mem_mib),
                "-object", "iothread,id=iothread-virtioscsi0", "-object", "iothread,id=iothread-virtioscsi1",
                "-device", "pci-bridge,id=pci.1,chassis_nr=1,bus=pci.0,addr=0x1e",
                "-device", "pci-bridge,id=pci.2,chassis_nr=2,bus=pci.0,addr=0x1f",
                "-device", "vmgenid,guid=" + self.uuid(),
                "-chardev", f"socket,path={run}/{vmid}.qga,server=on,wait=off,id=qga0",
                "-device", "virtio-serial,id=qga0,bus=pci.0,addr=0x8",
                "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
                "-drive", "if=none,id=drive-ide2,media=cdrom,aio=io_uring",
                "-device", "ide-cd,bus=ide.1,unit=0,drive=drive-ide2,id=ide2,bootindex=101"]
        for k in range(n_disks):
            argv += ["-device", f"virtio-scsi-pci,id=virtioscsi{k},bus=pci.3,addr=0x{k + 1:x},iothread=iothread-virtioscsi{k}",
                     "-drive", f"file=/dev/pve/vm-{vmid}-disk-{k},if=none,id=drive-scsi{k},discard=on,format=raw,"
                               "cache=none,aio=io_uring,detect-zeroes=unmap",
                     "-device", f"scsi-hd,bus=virtioscsi{k}.0,channel=0,scsi-id=0,lun={k},drive=drive-scsi{k},"
                                f"id=scsi{k}" + (",bootindex=100" if k == 0 else "")]
        for n in range(2):
            argv += ["-netdev", f"type=tap,id=net{n},ifname=tap{vmid}i{n},script=/var/lib/qemu-server/pve-bridge,"
                                "downscript=/var/lib/qemu-server/pve-bridgedown,vhost=on",
                     "-device", f"virtio-net-pci,mac={self.mac(vmid, n)},netdev=net{n},bus=pci.0,addr=0x{0x12 + n:x},"
                                f"id=net{n},rx_queue_size=1024,tx_queue_size=256" + (",bootindex=102" if n == 0 else "")]
        argv += ["-machine", "type=pc+pve0"]
        return b"".join(x.encode() + b"\0" for x in argv)

    def ct(self, vmid, name, slot):
        t, r = self.t, self.rng
        cores = r.choice([1, 2, 2, 4])
        mem_mib = r.choice([512, 1024, 2048, 2048, 4096])
        swap_mib = 512
        sizes = [8] + ([r.choice([16, 32, 100])] if slot % 2 == 0 else [])   # a mount point LV
        lvs = [self.thin_lv(vmid, k, s) for k, s in enumerate(sizes)]
        mon, start = self.pid(), self.start_ticks()
        init = self.pid()
        mem_file = r.randint(32, mem_mib // 4) * MIB
        mem_current = min(mem_mib * MIB - MIB, mem_file + r.randint(64, mem_mib // 2) * MIB)
        swap = r.randint(0, 64) * MIB
        usage = self.cpu_usage_usec(start, cores)
        io_rows, rd, wr = self.disk_io(lvs)
        base = f"sys/fs/cgroup/lxc/{vmid}"
        self.cgroup_files(base, usage, mem_current, mem_file, mem_mib * MIB, swap, io_rows, [])
        t.write(f"{base}/ns/cgroup.procs", "")
        t.write(f"{base}/ns/init.scope/cgroup.procs", f"{init}\n")
        t.write(f"{base}/ns/system.slice/cgroup.procs", "".join(f"{init + k}\n" for k in range(1, 6)))
        t.write(f"sys/fs/cgroup/lxc.monitor/{vmid}/cgroup.procs", f"{mon}\n")
        t.write(f"proc/{mon}/stat", self.pid_stat(mon, "lxc-start", 1, start, 1, 12, 30, 10285813760, 1200))
        t.write(f"proc/{mon}/cmdline", f"/usr/bin/lxc-start\0-F\0-n\0{vmid}\0")
        t.write(f"proc/{mon}/cgroup", f"0::/lxc.monitor/{vmid}\n")
        t.write(f"proc/{mon}/task/{mon}/children", f"{init} ")
        t.write(f"proc/{init}/stat", self.pid_stat(init, "systemd", mon, start + 7, 1, 800, 300, 171098112, 3100))
        t.write(f"proc/{init}/cmdline", "/sbin/init\0")
        t.write(f"proc/{init}/cgroup", f"0::/lxc/{vmid}/ns/init.scope\n")
        t.mkdir(f"proc/{init}/root")                   # statvfs'd for the rootfs usage
        rx, rxp, tx, txp = self.traffic()
        self.netdev(f"veth{vmid}i0", rx, rxp, tx, txp)
        conf = [
            "arch: amd64",
            f"cores: {cores}",
            "features: nesting=1",
            f"hostname: {name}",
            f"memory: {mem_mib}",
        ]
        if len(sizes) > 1:
            conf.append(f"mp0: local-lvm:vm-{vmid}-disk-1,mp=/srv,backup=1,size={sizes[1]}G")
        conf += [
            f"net0: name=eth0,bridge=vmbr0,gw=10.20.{slot % 8}.1,hwaddr={self.mac(vmid, 0)},"
            f"ip=10.20.{slot % 8}.{10 + slot % 240}/24,type=veth",
            "onboot: 1",
            "ostype: debian",
            f"rootfs: local-lvm:vm-{vmid}-disk-0,size={sizes[0]}G",
            f"swap: {swap_mib}",
            f"tags: {ROLES[slot % len(ROLES)]};infra",
            "unprivileged: 1",
        ]
        t.write(f"etc/pve/nodes/{self.a.node}/lxc/{vmid}.conf", "\n".join(conf) + "\n")
        return {"vmid": vmid, "type": "lxc", "name": name, "pid": init,
                "uptime_seconds": round(UPTIME - (start + 7) / HZ, 2), "cpu_seconds": usage / 1e6,
                "memory_bytes": mem_current - mem_file, "memory_limit_bytes": mem_mib * MIB,
                "swap_bytes": swap, "disk_read_bytes": rd, "disk_written_bytes": wr,
                "disks": [lv.dm_name for lv in lvs], "nics": [f"veth{vmid}i0"],
                "net_in_bytes": tx, "net_out_bytes": rx}

    # -- host files ---------------------------------------------------------------------
    def host_proc(self):
        t, r, cpus = self.t, self.rng, self.a.cpus
        per = []
        for c in range(cpus):
            busy = r.randint(4 * 10**6, 9 * 10**6)
            per.append([busy, busy // 200, busy // 3, int(UPTIME * HZ) - busy - busy // 3,
                        r.randint(10**4, 10**5), r.randint(10**3, 10**4), r.randint(10**4, 10**5),
                        0, busy // 2, 0])
        total = [sum(col) for col in zip(*per)]
        lines = ["cpu  " + " ".join(map(str, total))]
        lines += [f"cpu{c} " + " ".join(map(str, v)) for c, v in enumerate(per)]
        irqs = [r.randint(0, 10**8) if i < 200 or r.random() < 0.2 else 0 for i in range(1024)]
        lines += ["intr " + " ".join(map(str, [sum(irqs)] + irqs)),
                  f"ctxt {r.randint(10**11, 10**12)}", f"btime {BOOT_UNIX}",
                  f"processes {r.randint(10**7, 10**8)}", "procs_running 9", "procs_blocked 1"]
        soft = [r.randint(10**7, 10**9) for _ in range(10)]
        lines.append("softirq " + " ".join(map(str, [sum(soft)] + soft)))
        t.write("proc/stat", "\n".join(lines) + "\n")
        kb = 528284340
        mem = [("MemTotal", kb), ("MemFree", 61250132), ("MemAvailable", 192553012),
               ("Buffers", 1412908), ("Cached", 98117032), ("SwapCached", 2140),
               ("Active", 240122344), ("Inactive", 172408120), ("Active(anon)", 231881256),
               ("Inactive(anon)", 93103560), ("Active(file)", 8241088), ("Inactive(file)", 79304560),
               ("Unevictable", 168244), ("Mlocked", 165172), ("SwapTotal", 8388604),
               ("SwapFree", 8301052), ("Zswap", 0), ("Zswapped", 0), ("Dirty", 1804),
               ("Writeback", 0), ("AnonPages", 324171364), ("Mapped", 1402116), ("Shmem", 895228),
               ("KReclaimable", 15288376), ("Slab", 29012444), ("SReclaimable", 15288376),
               ("SUnreclaim", 13724068), ("KernelStack", 88464), ("PageTables", 1180244),
               ("SecPageTables", 906148), ("NFS_Unstable", 0), ("Bounce", 0), ("WritebackTmp", 0),
               ("CommitLimit", 272530772), ("Committed_AS", 383412020), ("VmallocTotal", 34359738367),
               ("VmallocUsed", 1392644), ("VmallocChunk", 0), ("Percpu", 243520),
               ("HardwareCorrupted", 0), ("AnonHugePages", 222302720), ("ShmemHugePages", 0),
               ("ShmemPmdMapped", 0), ("FileHugePages", 0), ("FilePmdMapped", 0), ("Unaccepted", 0)]
        text = "".join(f"{k + ':':<16}{v:>8} kB\n" for k, v in mem)
        text += ("HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
                 "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n"
                 "DirectMap4k:     2150828 kB\nDirectMap2M:    84918784 kB\nDirectMap1G:   451936256 kB\n")
        t.write("proc/meminfo", text)
        t.write("proc/loadavg", f"14.21 13.87 13.02 11/{4000 + 60 * len(self.guests)} 3876554\n")
        t.write("proc/uptime", f"{UPTIME:.2f} {UPTIME * cpus * 0.7:.2f}\n")
        # A real node lists device-mapper here, but files cannot fake its
        # ioctls: without the entry the thinpool collector finds no pools
        # instead of trying the bench machine's /dev/mapper/control.
        t.write("proc/misc", "183 hw_random\n227 mcelog\n228 hpet\n229 fuse\n231 snapshot\n")
        t.write("proc/pressure/cpu", "some avg10=2.14 avg60=1.98 avg300=1.87 total=19912837712\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
        t.write("proc/pressure/io", "some avg10=0.61 avg60=0.55 avg300=0.52 total=2048223310\n"
                                    "full avg10=0.38 avg60=0.29 avg300=0.33 total=1801244817\n")
        t.write("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=38224011\n"
                                        "full avg10=0.00 avg60=0.00 avg300=0.00 total=25023340\n")
        t.write("proc/sys/kernel/random/boot_id", "5d2b8f0e-3c41-4a7e-9b6d-0f8e1a2c3b4d\n")

    def diskstats(self):
        rows = []
        for d in self.devs:
            if d.name.startswith("loop"):
                rows.append(f"{d.major:4} {d.minor:7} {d.name} " + " ".join(["0"] * 17))
                continue
            rb, wb, ri, wi = d.io
            if d.io == [0, 0, 0, 0]:
                ri, wi = self.rng.randint(100, 10**6), self.rng.randint(100, 10**6)
                rb, wb = ri * 4096, wi * 8192
            io_ms = (ri + wi) // 9
            vals = [ri, ri // 40, rb // 512, ri // 5, wi, wi // 12, wb // 512, wi // 3, 0, io_ms,
                    ri // 5 + wi // 3, wi // 200, 0, wb // 2048, wi // 900, wi // 70, wi // 600]
            rows.append(f"{d.major:4} {d.minor:7} {d.name} " + " ".join(map(str, vals)))
        self.t.write("proc/diskstats", "".join(r + "\n" for r in rows))

    def net_dev(self):
        host = []
        for name in HOST_NICS:
            rx, rxp, tx, txp = self.traffic()
            host.append((name, [rx * 10, rxp * 10, 0, 12, 0, 0, 0, rxp // 50,
                                tx * 10, txp * 10, 0, 0, 0, 0, 0, 0]))
        out = ["Inter-|   Receive                                                |  Transmit\n",
               " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop "
               "fifo colls carrier compressed\n"]
        for name, v in host + self.netdev_rows:
            out.append(f"{name:>6}: {v[0]:8} {v[1]:7} {v[2]:4} {v[3]:4} {v[4]:4} {v[5]:5} {v[6]:10} {v[7]:9} "
                       f"{v[8]:8} {v[9]:7} {v[10]:4} {v[11]:4} {v[12]:4} {v[13]:5} {v[14]:7} {v[15]:10}\n")
        self.t.write("proc/net/dev", "".join(out))
        return len(host)

    def etc_pve(self):
        t, node = self.t, self.a.node
        nodes = ["pve1", "pve2", "pve3"] if node in ("pve1", "pve2", "pve3") else ["pve1", "pve2", node]
        members = ",\n".join(f'  "{n}": {{ "id": {i + 1}, "online": 1, "ip": "10.20.0.{11 + i}"}}'
                             for i, n in enumerate(nodes))
        t.write("etc/pve/.members",
                f'{{\n"nodename": "{node}",\n"version": 9,\n'
                f'"cluster": {{ "name": "bench-lab", "version": 3, "nodes": {len(nodes)}, "quorate": 1 }},\n'
                f'"nodelist": {{\n{members}\n  }}\n}}\n')
        ids = ",\n".join(f'"{g["vmid"]}": {{ "node": "{node}", "type": "{g["type"]}", "version": {3 + k} }}'
                         for k, g in enumerate(self.guests))
        version = f'"version": {len(self.guests) + 7}'
        t.write("etc/pve/.vmlist", f'{{\n{version},\n"ids": {{\n{ids}}}\n\n}}\n' if ids else f'{{\n{version}\n\n}}\n')
        for n in nodes:
            t.mkdir(f"etc/pve/nodes/{n}/qemu-server")
            t.mkdir(f"etc/pve/nodes/{n}/lxc")
        for link in ("qemu-server", "lxc"):
            t.symlink(f"etc/pve/{link}", f"etc/pve/nodes/{node}/{link}")
        t.symlink("etc/pve/local", f"etc/pve/nodes/{node}")
        t.write("etc/pve/storage.cfg",
                "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n"
                "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n"
                f"dir: backup\n\tpath /mnt/backup\n\tcontent backup\n\tnodes {node}\n\tprune-backups keep-last=3\n")
        t.mkdir("var/lib/vz")
        t.mkdir("mnt/backup")
        t.write("usr/share/perl5/PVE/pvecfg.pm",
                "package PVE::pvecfg;\n\nuse strict;\nuse warnings;\n\n"
                "sub package {\n    return 'pve-manager';\n}\n\n"
                "sub version {\n    return '8.4.1';\n}\n\n"
                "sub release {\n    return '8.4';\n}\n\n"
                "sub repoid {\n    return '2a5fa54a';\n}\n\n"
                "sub version_text {\n    return '8.4.1/2a5fa54a';\n}\n\n1;\n")

    def build(self):
        self.host_block()
        for k in range(self.a.guests):
            vmid = 100 + k
            name = f"{ROLES[k % len(ROLES)]}-{vmid}"
            self.guests.append(self.ct(vmid, "ct-" + name, k) if k % 10 in (3, 6, 9) else self.vm(vmid, name, k))
        self.t.mkdir("run/qemu-server")
        self.t.mkdir("sys/fs/cgroup/lxc")
        self.t.mkdir("sys/fs/cgroup/qemu.slice")
        self.host_proc()
        self.diskstats()
        n_host_nics = self.net_dev()
        self.etc_pve()
        manifest = {"node": self.a.node, "cpus": self.a.cpus, "host_nics": n_host_nics,
                    "disks_reported": sum(1 for d in self.devs if not d.parent and not d.name.startswith("loop")),
                    "netdev_rows": n_host_nics + len(self.netdev_rows), "diskstats_rows": len(self.devs),
                    "guests": self.guests}
        with open(self.t.path("guests.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        with open(self.t.path(MARKER), "w") as f:
            f.write("written by tests/bench/make_guest_node.py\n")
        return manifest


# ---- --check: the agent's view of the tree ----------------------------------------------

def parse_dump(text):
    """The agent's --dump (protobuf text format, one field per line) as nested
    dicts; every field is a list of values, messages are dicts."""
    root, stack = {}, []
    cur = root
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s == "}":
            cur = stack.pop()
            continue
        m = re.match(r'^([A-Za-z0-9_]+): (\{|"(?:[^"\\]|\\.)*"|\S+)$', s)
        if not m:
            raise ValueError(f"unexpected --dump line: {line!r}")
        key, val = m.groups()
        if val == "{":
            msg = {}
            cur.setdefault(key, []).append(msg)
            stack.append(cur)
            cur = msg
        elif val.startswith('"'):
            cur.setdefault(key, []).append(json.loads(val))
        else:
            cur.setdefault(key, []).append(val)
    return root


def one(msg, key, default=None):
    v = msg.get(key)
    return v[0] if v else default


def check(agent, root, manifest):
    """Returns a list of problems with the agent's view of the tree (empty: fine)."""
    argv = [agent, "--dump", "--log.level=warn", f"--node={manifest['node']}",
            f"--path.procfs={root}/proc", f"--path.sysfs={root}/sys", f"--path.pve={root}/etc/pve",
            f"--path.run={root}/run", f"--path.rootfs={root}"]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}"]
    bad = [f"agent warned: {line}" for line in r.stderr.splitlines() if line.strip()]
    d = parse_dump(r.stdout)
    for c in d.get("collectors", []):
        if one(c, "success") != "true" or one(c, "warnings_total", "0") != "0":
            bad.append(f"collector {one(c, 'name')}: success {one(c, 'success')}, "
                       f"warnings {one(c, 'warnings_total')}, error {one(c, 'error')!r}")
    names = {one(c, "name") for c in d.get("collectors", [])}
    for want in ("stat", "meminfo", "loadavg", "diskstats", "netdev", "pressure", "cluster", "guests", "storage"):
        if want not in names:
            bad.append(f"collector {want} did not run")
    if len(d.get("netdevs", [])) != manifest["host_nics"]:
        bad.append(f"{len(d.get('netdevs', []))} host NICs reported, want {manifest['host_nics']}")
    if len(d.get("disks", [])) != manifest["disks_reported"]:
        bad.append(f"{len(d.get('disks', []))} disks reported, want {manifest['disks_reported']}")
    usage = {one(u, "id"): one(u, "active") for u in d.get("storage_usage", [])}
    if usage != {"local": "true", "backup": "true"}:
        bad.append(f"storage usage {usage}, want local and backup active")
    if one(one(d, "cluster", {}), "pve_version") != "8.4.1":
        bad.append("no pve-manager version from usr/share/perl5/PVE/pvecfg.pm")
    host = one(d, "host", {})
    if int(one(host, "cpu_count", "0")) != manifest["cpus"]:
        bad.append(f"host cpu_count {one(host, 'cpu_count')}, want {manifest['cpus']}")
    configs = {int(one(g, "vmid")): g for g in d.get("guests", [])}
    runtime = {int(one(g, "vmid")): g for g in d.get("guest_runtime", [])}
    want = {g["vmid"]: g for g in manifest["guests"]}
    if set(runtime) != set(want):
        bad.append(f"{len(runtime)} guests reported running, want {len(want)}; missing "
                   f"{sorted(set(want) - set(runtime))[:10]}, unexpected {sorted(set(runtime) - set(want))[:10]}")
    if set(configs) != set(want):
        bad.append(f"{len(configs)} guest configs reported, want {len(want)}")
    for vmid, g in sorted(want.items()):
        rt, cf = runtime.get(vmid), configs.get(vmid)
        if cf is not None and (one(cf, "name") != g["name"] or one(cf, "node") != manifest["node"]):
            bad.append(f"{vmid}: config name/node {one(cf, 'name')}/{one(cf, 'node')}")
        if rt is None:
            continue
        got = {
            "type": one(rt, "type"), "running": one(rt, "running"), "pid": int(one(rt, "pid", "0")),
            "uptime_seconds": float(one(rt, "uptime_seconds", "nan")),
            "cpu_seconds": float(one(rt, "cpu_seconds", "nan")),
            "memory_bytes": int(one(rt, "memory_bytes", "-1")),
            "memory_limit_bytes": int(one(rt, "memory_limit_bytes")) if "memory_limit_bytes" in rt else None,
            "swap_bytes": int(one(rt, "swap_bytes", "-1")),
            "disk_read_bytes": int(one(rt, "disk_read_bytes", "-1")),
            "disk_written_bytes": int(one(rt, "disk_written_bytes", "-1")),
            "net_in_bytes": int(one(rt, "net_in_bytes", "-1")),
            "net_out_bytes": int(one(rt, "net_out_bytes", "-1")),
            "disks": [one(x, "key") for x in rt.get("disks", [])],
            "nics": [one(x, "name") for x in rt.get("nics", [])],
            "pressure": sorted(rt.get("pressure", [{}])[0]),
            "rootfs": int(one(rt, "rootfs_total_bytes", "0")) > 0,
        }
        expect = dict(g, running="true", pressure=["cpu", "io", "memory"], rootfs=g["type"] == "lxc")
        for k, v in got.items():
            v, got_v = expect[k], got[k]
            ok = abs(got_v - v) < 0.01 if isinstance(v, float) else got_v == v
            if not ok:
                bad.append(f"{vmid}: {k} = {got_v!r}, want {v!r}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--guests", type=int, default=100, help="running guests (7 in 10 are VMs)")
    ap.add_argument("--node", default="pve3", help="this node's name in .members")
    ap.add_argument("--cpus", type=int, default=64, help="CPU lines in /proc/stat")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--force", action="store_true", help="replace a tree this script made before")
    ap.add_argument("--check", metavar="AGENT", help="verify the tree with AGENT --dump")
    a = ap.parse_args()
    if a.guests < 0 or a.guests > 9000 or a.cpus < 1 or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", a.node):
        ap.error("need 0 <= --guests <= 9000, --cpus >= 1 and a plain node name")
    if os.path.lexists(a.dir):
        if not os.path.isdir(a.dir) or (os.listdir(a.dir) and not os.path.exists(os.path.join(a.dir, MARKER))):
            sys.exit(f"make_guest_node: {a.dir} exists and was not made by this script; not touching it")
        if os.listdir(a.dir) and not a.force:
            sys.exit(f"make_guest_node: {a.dir} is not empty (use --force to replace it)")
        shutil.rmtree(a.dir)
    os.makedirs(a.dir)
    a.dir = os.path.abspath(a.dir)
    m = Node(a).build()
    vms = sum(1 for g in m["guests"] if g["type"] == "qemu")
    print(f"{a.dir}: node {a.node}, {a.cpus} CPUs, {vms} VMs + {len(m['guests']) - vms} CTs running, "
          f"{m['diskstats_rows']} diskstats rows, {m['netdev_rows']} net/dev rows")
    if a.check:
        problems = check(a.check, a.dir, m)
        if problems:
            print(f"check FAILED ({len(problems)} problems):", file=sys.stderr)
            for p in problems[:30]:
                print("  " + p, file=sys.stderr)
            return 1
        print(f"check ok: {os.path.basename(a.check)} --dump reports all {len(m['guests'])} guests running "
              "with the expected values, every collector succeeded, no warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
