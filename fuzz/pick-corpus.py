#!/usr/bin/env python3
"""Picks fuzzer-found inputs for the checked-in corpus, keeping it small.

Usage: pick-corpus.py CONTROL_FILE DEST_DIR [MAX_FILES [MIN_NEW_EDGES]]

CONTROL_FILE is written by a libFuzzer merge whose first directory holds the
checked-in corpus (see README.md, "Growing the corpus"). Starting from the
edges the checked-in files reach, this repeatedly picks the input that reaches
the most edges not reached yet (greedy set cover), until MAX_FILES (30) are
picked or none adds MIN_NEW_EDGES (3); picked files are copied to DEST_DIR,
named by the SHA-1 of their contents as libFuzzer names them.
"""
import hashlib
import os
import shutil
import sys

control, dest = sys.argv[1], sys.argv[2]
max_files = int(sys.argv[3]) if len(sys.argv) > 3 else 30
min_gain = int(sys.argv[4]) if len(sys.argv) > 4 else 3

lines = open(control).read().split("\n")
count, initial = int(lines[0]), int(lines[1])
files = lines[2 : 2 + count]
edges = {}
for line in lines[2 + count :]:
    if line.startswith("COV "):
        parts = line.split()
        edges[int(parts[1])] = set(parts[2:])

covered = set()
for index in range(initial):
    covered |= edges.get(index, set())
reached = set().union(*edges.values()) if edges else set()
before = len(covered)
candidates = {index: edges.get(index, set()) for index in range(initial, count)}
picked = []
while candidates and len(picked) < max_files:
    best = max(candidates, key=lambda i: (len(candidates[i] - covered), -os.path.getsize(files[i])))
    gain = len(candidates[best] - covered)
    if gain < min_gain:
        break
    picked.append(best)
    covered |= candidates.pop(best)

print(f"checked-in corpus: {before} edges; all inputs: {len(reached)}; "
      f"with {len(picked)} picked: {len(covered)}")
for index in picked:
    data = open(files[index], "rb").read()
    shutil.copy(files[index], os.path.join(dest, hashlib.sha1(data).hexdigest()))
