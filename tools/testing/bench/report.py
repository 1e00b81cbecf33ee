#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the figures of `make bench` into a table, a CSV and a plot.

    report.py RAW RESULTS_DIR

RAW holds the guest's `bench-data` lines of every round (see
guest-bench.sh).  Each figure of a round is one measurement; the table
and the CSV give the median over the rounds with the smallest and largest
round.  Rust/C ratios are taken within each round (one boot, so one machine
state) and their median is shown.  Writes bench.md, bench.csv, bench.png and
summary.md (the README's excerpt) into RESULTS_DIR; setup.txt there, if
present, heads the table.

The data-path figures (`dp` lines) come from RESULTS_DIR/raw-datapath.txt
when it exists (bench.sh writes it from every run, and a run of the data
path alone, MDEV_BENCH_PARTS=datapath, writes only it), else from RAW;
setup-datapath.txt there says which run produced them.
"""

import collections
import csv
import os
import statistics
import sys

CORES = ("c", "rust")
OPERATIONS = ("create", "remove-random", "remove-newest", "remove-oldest")
# The targets of the benchmark (see Documentation/benchmark.rst).
FLAT_LIMIT = 1.2
SPEEDUP_TARGETS = {16000: 5.0, 32000: 10.0}
SMALL_BUCKET_LIMIT = 1.00
TWO_WRITERS_TARGET = 1.6
MEMORY_MARGIN = 64
# The data path: each C sample and its Rust port, the operations timed for
# them (mdev_datapath.c), and the most a Rust port may cost per access.
DP_PAIRS = (("mtty", "mtty_rs", ("lsr-read", "scr-write", "cfg-read", "region-info", "irq")),
            ("mdpy", "mdpy_rs", ("cfg-read", "region-info", "fb-read-4k")))
# The Rust sample's DMA, which no C sample does, and its context.
DP_SAMPLE = ("mdev_rs_sample", ("dma-4k", "reg-write", "bar2-write-4k"))
DP_LIMIT = 1.05


def parse(path):
    """Reads RAW into {(round, core, kind): [fields...]} lists."""
    data = collections.defaultdict(list)
    with open(path, encoding="utf-8", errors="replace") as raw:
        for line in raw:
            words = line.split()
            if len(words) < 3 or words[0] != "bench-data" or not words[1].startswith("round="):
                continue
            rnd = int(words[1].split("=", 1)[1])
            if words[2].startswith("core="):
                core = words[2].split("=", 1)[1]
                data[(rnd, core, words[3])].append(words[4:])
            else:
                data[(rnd, None, words[2])].append(words[3:])
    return data


class Figures:
    """The parsed figures, by what they measure."""

    def __init__(self, data):
        self.rounds = sorted({key[0] for key in data})
        # op[(core, operation, low, high)][round] = median microseconds
        self.op = collections.defaultdict(dict)
        self.writers = collections.defaultdict(dict)  # (core, n) -> round -> ops/s
        self.memory = collections.defaultdict(dict)  # core -> round -> bytes
        self.memory_devices = 0
        self.hold = collections.defaultdict(dict)  # section -> round -> (count, total, max)
        # profile[(core, operation)][function] = (calls, microseconds) per operation
        self.profile = collections.defaultdict(dict)
        self.setting = {}
        self.waits = collections.defaultdict(dict)  # core -> caller -> count
        # reader[(core, mode)][round] = (median, mean, max microseconds, reads)
        self.reader = collections.defaultdict(dict)
        self.reader_creates = 0
        # dp[(core, operation, driver)][round] = median nanoseconds
        self.dp = collections.defaultdict(dict)
        self.dp_rounds = set()
        for (rnd, core, kind), rows in data.items():
            for fields in rows:
                if kind == "op":
                    name, low, high, median = fields[0], int(fields[1]), int(fields[2]), float(fields[3])
                    self.op[(core, name, low, high)][rnd] = median
                elif kind == "writers":
                    self.writers[(core, int(fields[0]))][rnd] = float(fields[1])
                elif kind == "memory":
                    self.memory_devices = int(fields[0])
                    self.memory[core][rnd] = int(fields[1])
                elif kind == "hold" and core == "rust":
                    self.hold[fields[0]][rnd] = tuple(int(f) for f in fields[1:4])
                elif kind == "profile":
                    operation, count, function = fields[0], int(fields[1]), fields[2]
                    self.profile[(core, operation)][function] = (int(fields[3]) / count, float(fields[4]) / count)
                elif kind == "reader":
                    self.reader_creates = int(fields[1])
                    self.reader[(core, fields[0])][rnd] = tuple(float(f) for f in fields[2:5]) + (int(fields[5]),)
                elif kind == "waits":
                    self.waits[core][fields[1]] = int(fields[2])
                elif kind == "dp":
                    self.dp[(core, fields[0], fields[1])][rnd] = float(fields[2])
                    self.dp_rounds.add(rnd)
                elif core is None:
                    self.setting[kind] = " ".join(fields)

    def buckets(self, operation="create"):
        return sorted({(low, high) for (_, name, low, high) in self.op if name == operation})

    def per_round(self, core, operation, bucket):
        return self.op.get((core, operation) + bucket, {})

    def population(self):
        """The devices the curve leaves in place: its last bucket's top."""
        buckets = self.buckets()
        return buckets[-1][1] if buckets else 0

    def reader_ratios(self, core, index):
        """Reader/alone of figure `index` (0 median, 1 mean) in each round."""
        alone, reader = self.reader.get((core, "alone"), {}), self.reader.get((core, "reader"), {})
        return [reader[r][index] / alone[r][index] for r in self.rounds
                if r in alone and r in reader and alone[r][index] > 0]

    def dp_ratios(self, core, operation, c_driver, rust_driver):
        """Rust port/C sample of one operation on one core, per round."""
        c, rust = self.dp.get((core, operation, c_driver), {}), self.dp.get((core, operation, rust_driver), {})
        return [rust[r] / c[r] for r in sorted(self.dp_rounds) if r in c and r in rust and c[r] > 0]

    def ratios(self, operation, bucket):
        """Rust/C in each round that measured both."""
        c, rust = self.per_round("c", operation, bucket), self.per_round("rust", operation, bucket)
        return [rust[r] / c[r] for r in self.rounds if r in c and r in rust and c[r] > 0]


def spread(values):
    """(median, min, max) of a non-empty list, or None."""
    values = list(values)
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def fmt(triple, digits=1):
    if triple is None:
        return "-"
    med, low, high = triple
    return f"{med:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def bucket_name(bucket):
    low, high = bucket

    def short(n):
        return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)

    return f"{short(low)}-{short(high)}"


def write_csv(fig, path):
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["core", "operation", "bucket_low", "bucket_high", "median_us", "min_us", "max_us"])
        for core in CORES:
            for operation in OPERATIONS:
                for bucket in fig.buckets(operation):
                    triple = spread(fig.per_round(core, operation, bucket).values())
                    if triple:
                        writer.writerow([core, operation, bucket[0], bucket[1]] + [f"{v:.2f}" for v in triple])
        # The data path: operation DRIVER/OP, no bucket, microseconds.
        for core in CORES:
            for (dp_core, operation, driver), by_round in sorted(fig.dp.items()):
                if dp_core == core:
                    triple = spread(v / 1000 for v in by_round.values())
                    writer.writerow([core, f"{driver}/{operation}", "", ""] + [f"{v:.3f}" for v in triple])


def hold_per_op(fig, sections):
    """Mean nanoseconds the mutex is held per operation, per round."""
    per_round = {}
    for rnd in fig.rounds:
        total = 0.0
        for section in sections:
            count, ns, _ = fig.hold.get(section, {}).get(rnd, (0, 0, 0))
            if not count:
                break
            total += ns / count
        else:
            per_round[rnd] = total
    return per_round


def targets(fig):
    """(target, measured, met) lines."""
    lines = []
    buckets = fig.buckets()
    if not buckets:
        return dp_targets(fig)
    first, last = buckets[0], buckets[-1]
    for operation in ("create", "remove-random"):
        rust_first = fig.per_round("rust", operation, first)
        rust_last = fig.per_round("rust", operation, last)
        flat = [rust_last[r] / rust_first[r] for r in fig.rounds if r in rust_first and r in rust_last]
        if flat:
            med = statistics.median(flat)
            lines.append((f"Rust {operation} flat: {bucket_name(last)} within {FLAT_LIMIT}x of {bucket_name(first)}",
                          f"{med:.2f}x", med <= FLAT_LIMIT))
        for low, want in SPEEDUP_TARGETS.items():
            bucket = next((b for b in buckets if b[0] == low), None)
            ratios = fig.ratios(operation, bucket) if bucket else []
            if ratios:
                speedup = 1 / statistics.median(ratios)
                lines.append((f"{operation} at {bucket_name(bucket)}: Rust at least {want:g}x faster than C",
                              f"{speedup:.2f}x", speedup >= want))
        ratios = fig.ratios(operation, first)
        if ratios:
            med = statistics.median(ratios)
            lines.append((f"{operation} at {bucket_name(first)}: Rust/C at most {SMALL_BUCKET_LIMIT:.2f}",
                          f"{med:.2f}", med <= SMALL_BUCKET_LIMIT))
    scaling = {core: [fig.writers[(core, 2)][r] / fig.writers[(core, 1)][r] for r in fig.rounds
                      if r in fig.writers.get((core, 1), {}) and r in fig.writers.get((core, 2), {})]
               for core in CORES}
    if scaling["rust"]:
        rust, c = statistics.median(scaling["rust"]), statistics.median(scaling["c"] or [0])
        lines.append((f"2 writers at least {TWO_WRITERS_TARGET}x one writer on Rust, and at least C's ratio",
                      f"Rust {rust:.2f}x, C {c:.2f}x", rust >= TWO_WRITERS_TARGET and rust >= c))
    diffs = [fig.memory["rust"][r] - fig.memory["c"][r] for r in fig.rounds
             if r in fig.memory["c"] and r in fig.memory["rust"]]
    if diffs:
        diff, low, high = spread(diffs)
        # The slab figure moves by a few bytes per device between rounds.
        noise = (high - low) / 2
        lines.append((f"memory per device at most C's plus {MEMORY_MARGIN} bytes (within the noise between rounds)",
                      f"{diff:+.0f} bytes (rounds {low:+.0f} to {high:+.0f})", diff <= MEMORY_MARGIN + max(noise, 2)))
    return lines + dp_targets(fig)


def dp_targets(fig):
    """(target, measured, met) lines of the data path: each Rust port at most
    DP_LIMIT times its C sample per access, on each core (median of the
    per-round ratios)."""
    lines = []
    for c_driver, rust_driver, operations in DP_PAIRS:
        for operation in operations:
            cells, met = [], True
            for core in CORES:
                ratios = fig.dp_ratios(core, operation, c_driver, rust_driver)
                if ratios:
                    med = statistics.median(ratios)
                    cells.append(f"{'C' if core == 'c' else 'Rust'} core {med:.2f}")
                    met = met and med <= DP_LIMIT
            if cells:
                lines.append((f"{rust_driver} {operation}: at most {DP_LIMIT:.2f}x {c_driver}",
                              ", ".join(cells), met))
    return lines


def write_datapath(fig, out, setup):
    """The data-path section of bench.md."""
    out.append("## The data path\n")
    out.extend(f"- {line}" for line in setup)
    if setup:
        out.append("")
    out.append("Nanoseconds per access through the VFIO device fd (`mdev_datapath`, "
               "Documentation/benchmark.rst): for each round, the median over its batches; here the "
               "median over the rounds, (min-max) over the rounds. The C sample and its Rust port are "
               "timed side by side in the same process, batch for batch; Rust/C is the median of "
               "the per-round ratios, for each core.\n")
    out.append("| samples, operation | mdev core | C sample (ns) | Rust port (ns) | Rust/C |")
    out.append("|---|---|---|---|---|")
    for c_driver, rust_driver, operations in DP_PAIRS:
        for operation in operations:
            for core in CORES:
                c = fig.dp.get((core, operation, c_driver), {})
                rust = fig.dp.get((core, operation, rust_driver), {})
                if not c and not rust:
                    continue
                ratios = fig.dp_ratios(core, operation, c_driver, rust_driver)
                out.append(f"| {c_driver} / {rust_driver} `{operation}` | {'C' if core == 'c' else 'Rust'} core "
                           f"| {fmt(spread(c.values()), 0)} | {fmt(spread(rust.values()), 0)} "
                           f"| {fmt(spread(ratios), 2) if ratios else '-'} |")
    out.append("")
    driver, operations = DP_SAMPLE
    if any((core, op, driver) in fig.dp for core in CORES for op in operations):
        out.append(f"`dma_rw` of 4 KiB: the Rust sample ({driver}) only. No C sample calls "
                   "`vfio_dma_rw()` (mtty, mdpy and mbochs never touch guest memory) and our C test "
                   "vendor driver has no VFIO device at all, so there is no C figure to compare "
                   "with. `dma-4k` is one write of DMA_CMD that makes the device copy 4 KiB into a "
                   "page mapped with `VFIO_IOMMU_MAP_DMA`; as context, `reg-write` is the same trapped "
                   "4-byte write with no DMA behind it, and `bar2-write-4k` moves 4 KiB into the "
                   "device's memory by another path, one `pwrite()` into BAR2 through the fd.\n")
        out.append("| operation | mdev core | ns | minus `reg-write` (ns) |")
        out.append("|---|---|---|---|")
        for operation in operations:
            for core in CORES:
                by_round = fig.dp.get((core, operation, driver), {})
                if not by_round:
                    continue
                base = fig.dp.get((core, "reg-write", driver), {})
                beyond = [by_round[r] - base[r] for r in by_round if r in base]
                out.append(f"| `{operation}` | {'C' if core == 'c' else 'Rust'} core | {fmt(spread(by_round.values()), 0)} "
                           f"| {fmt(spread(beyond), 0) if operation != 'reg-write' and beyond else '-'} |")
        out.append("")


def write_markdown(fig, path, setup, dp_setup=()):
    out = []
    out.append("# mdev core benchmark: C core vs Rust core\n")
    out.extend(f"- {line}" for line in setup)
    if fig.setting:
        out.append(f"- guest: {fig.setting.get('cpus', '?')} vCPUs, clocksource {fig.setting.get('clocksource', '?')}")
    out.append("")
    out.append("Per-operation cost in microseconds as the population of one type grows: "
               "median over the rounds of each round's median, (min-max) over the rounds. "
               "Rust/C is the median of the per-round ratios (below 1.00: Rust faster).\n")
    for operation in OPERATIONS:
        out.append(f"## {operation}\n")
        out.append("| devices | C (us) | Rust (us) | Rust/C |")
        out.append("|---|---|---|---|")
        for bucket in fig.buckets(operation):
            ratios = fig.ratios(operation, bucket)
            out.append(f"| {bucket_name(bucket)} | {fmt(spread(fig.per_round('c', operation, bucket).values()))} "
                       f"| {fmt(spread(fig.per_round('rust', operation, bucket).values()))} "
                       f"| {statistics.median(ratios):.2f} |" if ratios else
                       f"| {bucket_name(bucket)} | - | - | - |")
        out.append("")
    floor = {core: [v for (c, name, _, _), by_round in fig.op.items() if c == core and name == "floor"
                    for v in by_round.values()] for core in CORES}
    out.append("## The floor\n")
    out.append("One write of `0` to a device's `remove` file: the same system call and sysfs path "
               "with no work behind it, in the same boots.\n")
    out.append("| C (us) | Rust (us) |")
    out.append("|---|---|")
    out.append(f"| {fmt(spread(floor['c']), 2)} | {fmt(spread(floor['rust']), 2)} |\n")

    out.append("## Concurrent writers\n")
    out.append("Operations per second (creates and removes) of N writer processes, each on its own parent; "
               "the ratio is to one writer in the same boot.\n")
    out.append("| writers | C (ops/s) | C ratio | Rust (ops/s) | Rust ratio |")
    out.append("|---|---|---|---|---|")
    for n in sorted({n for (_, n) in fig.writers}):
        cells = []
        for core in CORES:
            by_round = fig.writers.get((core, n), {})
            one = fig.writers.get((core, 1), {})
            ratio = spread(by_round[r] / one[r] for r in by_round if r in one)
            cells += [fmt(spread(by_round.values()), 0), fmt(ratio, 2)]
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    out.append("")

    out.append("## Global mutex hold time (Rust core)\n")
    out.append("Measured by a second build of the Rust core (`MDEV_LOCK_HOLD=1`, "
               "mdev_list/lock_hold.rs), which reads the monotonic clock after taking and before "
               "releasing the mutex and sums per critical section, over the same curve; every other "
               "figure comes from the build users install. Mean per operation over the whole curve.\n")
    out.append("| per | sections | held (ns) |")
    out.append("|---|---|---|")
    for label, sections in (("create", ("reserve", "activate")),
                            ("remove", ("begin_remove", "forget"))):
        out.append(f"| {label} | {' + '.join(sections)} | {fmt(spread(hold_per_op(fig, sections).values()), 0)} |")
    out.append("")
    debugfs = fig.hold.get("debugfs", {})
    if debugfs:
        out.append(f"One whole read of `/sys/kernel/debug/mdev/devices` at {fig.population()} devices, "
                   "seq_file's reruns on a full buffer included: how often it took the mutex, for how long "
                   "in all and at the longest. A create or remove that arrives meanwhile waits up to the "
                   "longest hold.\n")
        out.append("| mutex rounds | held in all (ms) | longest hold (ms) |")
        out.append("|---|---|---|")
        out.append(f"| {fmt(spread(v[0] for v in debugfs.values()), 0)} "
                   f"| {fmt(spread(v[1] / 1e6 for v in debugfs.values()), 1)} "
                   f"| {fmt(spread(v[2] / 1e6 for v in debugfs.values()), 1)} |")
        out.append("")

    if fig.reader:
        out.append("## Creates beside a reader of the debugfs device list\n")
        out.append(f"{fig.reader_creates} creates on a second parent while the curve's {fig.population()} devices "
                   "are still there: alone, then while another process reads `/sys/kernel/debug/mdev/devices` "
                   "from start to end in a loop (`reads`: whole reads it finished meanwhile). The C core has "
                   "no such file, so it has only the figure alone. The ratio is reader/alone within each "
                   "round; both phases compete for the same two vCPUs, so even a reader that never blocks "
                   "a create slows it down somewhat.\n")
        out.append("| core | creates | median (us) | mean (us) | longest (us) | reads |")
        out.append("|---|---|---|---|---|---|")
        for core in CORES:
            for mode in ("alone", "reader"):
                by_round = fig.reader.get((core, mode), {})
                if not by_round:
                    continue
                cells = [fmt(spread(v[i] for v in by_round.values()), 0 if i == 2 else 1) for i in range(3)]
                reads = fmt(spread(v[3] for v in by_round.values()), 0)
                out.append(f"| {'C' if core == 'c' else 'Rust'} | {mode} | " + " | ".join(cells) + f" | {reads} |")
        out.append("")
        for label, index in (("median", 0), ("mean", 1)):
            ratios = fig.reader_ratios("rust", index)
            if ratios:
                out.append(f"- Rust, {label} create with a reader / alone: {fmt(spread(ratios), 2)}")
        out.append("")

    out.append("## Memory per device\n")
    out.append(f"Unreclaimable slab bytes per live device (`/proc/meminfo` SUnreclaim), from the growth "
               f"between {fig.memory_devices} and {2 * fig.memory_devices} devices, empty slabs released "
               "before each reading.\n")
    out.append("| C (bytes) | Rust (bytes) |")
    out.append("|---|---|")
    out.append(f"| {fmt(spread(fig.memory['c'].values()), 0)} | {fmt(spread(fig.memory['rust'].values()), 0)} |\n")

    if fig.profile:
        out.append("## Where the time goes (function profiler, one round)\n")
        out.append("Calls and microseconds per operation of each profiled step (times include the "
                   "step's callees and the profiler's own cost, so only their relative size means "
                   "something). Rust functions have no ftrace hooks: the Rust core's own work is "
                   "what the write costs beyond its steps.\n")
        for operation in ("create", "remove", "writers-1", "writers-2"):
            if not any((core, operation) in fig.profile for core in CORES):
                continue
            functions = sorted(set(fig.profile.get(("c", operation), {})) | set(fig.profile.get(("rust", operation), {})),
                               key=lambda f: -max(fig.profile.get((core, operation), {}).get(f, (0, 0))[1] for core in CORES))
            if operation.startswith("writers"):
                out.append(f"### {operation[-1]} writer(s): lock slow paths, per operation\n")
            else:
                out.append(f"### {operation}\n")
            out.append("| step | C calls | C us | Rust calls | Rust us |")
            out.append("|---|---|---|---|---|")
            for function in functions:
                cells = []
                for core in CORES:
                    calls, us = fig.profile.get((core, operation), {}).get(function, (0, 0))
                    cells += [f"{calls:.2f}" if calls else "-", f"{us:.1f}" if calls else "-"]
                out.append(f"| `{function}` | " + " | ".join(cells) + " |")
            out.append("")

    if fig.waits:
        out.append("### 2 writers: who waits on a sleeping rwsem\n")
        out.append("Each sleeping rwsem wait of the two writers, by the function that took the lock "
                   "(from a stack trace of every wait).\n")
        out.append("| caller | C waits | Rust waits |")
        out.append("|---|---|---|")
        callers = sorted(set(fig.waits["c"]) | set(fig.waits["rust"]),
                         key=lambda f: -(fig.waits["c"].get(f, 0) + fig.waits["rust"].get(f, 0)))
        for caller in callers[:12]:
            out.append(f"| `{caller}` | {fig.waits['c'].get(caller, 0)} | {fig.waits['rust'].get(caller, 0)} |")
        out.append("")

    if fig.dp:
        write_datapath(fig, out, dp_setup)

    out.append("## Targets\n")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")
    for target, measured, met in targets(fig):
        out.append(f"| {target} | {measured} | {'yes' if met else 'NO'} |")
    out.append("")
    with open(path, "w", encoding="utf-8") as md:
        md.write("\n".join(out))


def write_summary(fig, path):
    """The short table the README shows: create and remove-random per bucket."""
    out = ["| devices | create C (us) | create Rust (us) | Rust/C | remove-random C (us) | "
           "remove-random Rust (us) | Rust/C |",
           "|---|---|---|---|---|---|---|"]
    for bucket in fig.buckets():
        cells = [bucket_name(bucket)]
        for operation in ("create", "remove-random"):
            for core in CORES:
                triple = spread(fig.per_round(core, operation, bucket).values())
                cells.append(f"{triple[0]:.0f}" if triple else "-")
            ratios = fig.ratios(operation, bucket)
            cells.append(f"{statistics.median(ratios):.2f}" if ratios else "-")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    dp_lines = dp_targets(fig)
    for target, measured, met in targets(fig)[:len(targets(fig)) - len(dp_lines)]:
        out.append(f"- {target}: {measured} ({'met' if met else 'not met'})")
    if dp_lines:
        worst = max((statistics.median(ratios), f"{rust} {operation}, {'C' if core == 'c' else 'Rust'} core")
                    for c_driver, rust, operations in DP_PAIRS for operation in operations for core in CORES
                    for ratios in [fig.dp_ratios(core, operation, c_driver, rust)] if ratios)
        out.append(f"- data path (bench.md says which run): Rust ports at most {DP_LIMIT:.2f}x the C samples per access: "
                   f"{sum(met for _, _, met in dp_lines)} of {len(dp_lines)} operations met, "
                   f"the highest Rust/C {worst[0]:.2f} ({worst[1]})")
    alone, reader = fig.reader.get(("rust", "alone"), {}), fig.reader.get(("rust", "reader"), {})
    ratios = fig.reader_ratios("rust", 1)
    if alone and reader and ratios:
        out.append(f"- Rust create at {fig.population()} devices while a process reads the debugfs device list "
                   f"in a loop: mean {spread(v[1] for v in reader.values())[0]:.0f} us, "
                   f"{statistics.median(ratios):.2f} times the mean alone "
                   f"({spread(v[1] for v in alone.values())[0]:.0f} us)")
    with open(path, "w", encoding="utf-8") as md:
        md.write("\n".join(out) + "\n")


def write_plot(fig, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    operations = ("create", "remove-random", "remove-oldest", "remove-newest")
    figure, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    for ax, operation in zip(axes.flat, operations):
        for core, style in (("c", "o-"), ("rust", "s-")):
            xs, ys, lows, highs = [], [], [], []
            for bucket in fig.buckets(operation):
                triple = spread(fig.per_round(core, operation, bucket).values())
                if triple:
                    xs.append((bucket[0] + bucket[1]) / 2)
                    ys.append(triple[0])
                    lows.append(triple[0] - triple[1])
                    highs.append(triple[2] - triple[0])
            if xs:
                ax.errorbar(xs, ys, yerr=[lows, highs], fmt=style, capsize=3,
                            label=f"{'C' if core == 'c' else 'Rust'} core")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{operation}")
        ax.set_xlabel("live devices (bucket middle)")
        ax.set_ylabel("microseconds per operation")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    figure.suptitle("mdev create and remove cost against population (median over rounds, min-max bars)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RAW RESULTS_DIR")
    raw, results = sys.argv[1:]
    data = parse(raw) if os.path.exists(raw) else {}
    dp_raw = os.path.join(results, "raw-datapath.txt")
    if os.path.exists(dp_raw):
        data = {key: rows for key, rows in data.items() if key[2] != "dp"}
        data.update((key, rows) for key, rows in parse(dp_raw).items() if key[2] == "dp")
    fig = Figures(data)
    if not fig.op and not fig.dp:
        sys.exit(f"report.py: {raw} holds no benchmark figures")
    os.makedirs(results, exist_ok=True)

    def lines_of(name):
        path = os.path.join(results, name)
        return open(path, encoding="utf-8").read().splitlines() if os.path.exists(path) else []

    setup = lines_of("setup.txt")
    write_csv(fig, os.path.join(results, "bench.csv"))
    write_markdown(fig, os.path.join(results, "bench.md"), setup, lines_of("setup-datapath.txt"))
    write_summary(fig, os.path.join(results, "summary.md"))
    write_plot(fig, os.path.join(results, "bench.png"))


if __name__ == "__main__":
    main()
