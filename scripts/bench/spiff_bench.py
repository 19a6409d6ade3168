#!/usr/bin/env python3
"""SpiffWorkflow on the same BPMN files as crates/workflow/examples/workflow_bench.rs.

Each file is parsed once; then, for N seconds per case, one instance after another is created
(`BpmnWorkflow(spec)`), its engine steps run, and every READY user task completed, oldest first,
with `approved = True` in its data, until the workflow is completed. Counts instances per second
and microseconds per instance. Parsing is not measured; the per-instance start is.

    /var/tmp/yiwang-py/bin/python scripts/bench/spiff_bench.py [--seconds 3] [--json] [--case NAME]

Element ids must not be `Start` or `End`: SpiffWorkflow gives those names to task specs of its
own, and a start event called `Start` then has no outgoing task ("No output task connected").

Needs spiffworkflow (scripts/bench/requirements.txt, installed by scripts/install-deps.sh).
"""

import argparse
import json
import os
import sys
import time

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.version import __version__ as SPIFF_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "crates", "workflow", "tests", "data")

# (case, file, process id, user tasks completed per instance)
CASES = [
    ("seq5", "seq5.bpmn", "Process_Seq5", 5),
    ("parallel3", "parallel3.bpmn", "Process_Parallel3", 5),
    ("countersign5", "countersign5.bpmn", "Process_Countersign5", 6),
]


def run_one(spec):
    """One instance from start to end; returns the number of user tasks completed."""
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    done = 0
    while not wf.is_completed():
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            raise RuntimeError("workflow waits but has no READY user task")
        # Oldest first: the task tree is iterated in creation order.
        task = ready[0]
        task.data["approved"] = True
        task.run()
        wf.do_engine_steps()
        done += 1
    if not wf.get_tasks(spec_class=EndEvent, state=TaskState.COMPLETED):
        raise RuntimeError("workflow completed without reaching an end event")
    return done


def bench(spec, expected, seconds):
    # Check the semantics once, outside the measurement.
    got = run_one(spec)
    if got != expected:
        raise AssertionError(f"{got} user tasks completed, expected {expected}")
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        run_one(spec)
        n += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    elapsed = now - t0
    return n, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="measurement per case (default 3)")
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    ap.add_argument("--case", choices=[c[0] for c in CASES], help="run this case only")
    ap.add_argument("--data", default=DATA, help="directory of the BPMN files")
    args = ap.parse_args()

    if not args.json:
        print(f"SpiffWorkflow {SPIFF_VERSION}, Python {sys.version.split()[0]}, {args.seconds:g} s per case")
        print(f"{'case':<14} {'instances':>10} {'instances/s':>12} {'µs/instance':>12} {'user tasks':>11}")
    for case, file, process_id, expected in CASES:
        if args.case and args.case != case:
            continue
        parser = BpmnParser()
        parser.add_bpmn_file(os.path.join(args.data, file))
        spec = parser.get_spec(process_id)
        n, elapsed = bench(spec, expected, args.seconds)
        per_s = n / elapsed
        us = elapsed / n * 1e6
        if args.json:
            print(json.dumps({
                "engine": "spiffworkflow",
                "version": SPIFF_VERSION,
                "case": case,
                "instances": n,
                "seconds": round(elapsed, 3),
                "per_second": round(per_s, 1),
                "us_per_instance": round(us, 2),
                "user_tasks": expected,
            }), flush=True)
        else:
            print(f"{case:<14} {n:>10} {per_s:>12,.1f} {us:>12,.1f} {expected:>11}", flush=True)


if __name__ == "__main__":
    main()
