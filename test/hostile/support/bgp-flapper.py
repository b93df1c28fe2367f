#!/usr/bin/env python3
"""ExaBGP API program of the flapping-appliance test: announces ACCEPTED, waits
for GO to exist, then flaps it CYCLES times (withdraw/announce), each cycle
also announcing and withdrawing a distinct /32 from 198.19.128.0/17 that the
import policy refuses; ends with ACCEPTED announced, writes DONE, and idles
(ExaBGP would restart a program that exits)."""
import os
import sys
import time

accepted, go, done, cycles, pause = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


say(f"announce route {accepted} next-hop self")
while not os.path.exists(go):
    time.sleep(0.05)
for i in range(cycles):
    rejected = f"198.19.{128 + i // 256}.{i % 256}/32"
    say(f"withdraw route {accepted} next-hop self")
    say(f"announce route {rejected} next-hop self")
    time.sleep(pause)
    say(f"announce route {accepted} next-hop self")
    say(f"withdraw route {rejected} next-hop self")
    time.sleep(pause)
with open(done, "w") as f:
    f.write(str(cycles))
while True:
    time.sleep(60)
