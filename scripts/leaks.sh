#!/usr/bin/env bash
# What a test run may not leave behind: network namespaces, and processes
# inside network namespaces that no longer have a name (a teardown that
# stopped its own processes but not what they started, e.g. dnsmasq).
#   bash scripts/leaks.sh > before.txt ... bash scripts/leaks.sh > after.txt
# prints one line per leftover; scripts/test.sh compares the two lists so
# that only what the run itself left counts. Containers are not counted
# (the compose lab's smoke test removes its own project).
set -u
for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do echo "netns $n"; done
self=$(readlink /proc/$$/ns/net 2>/dev/null)
named=" $(for f in /run/netns/*; do [ -e "$f" ] && stat -L -c 'net:[%i]' "$f" 2>/dev/null; done | tr '\n' ' ') "
for d in /proc/[0-9]*; do
  n=$(readlink "$d/ns/net" 2>/dev/null) || continue
  [ "$n" = "$self" ] && continue
  case "$named" in *" $n "*) continue ;; esac
  grep -qsE 'docker|containerd' "$d/cgroup" && continue
  c=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null | cut -c1-120); [ -n "$c" ] || continue
  echo "hidden-netns pid ${d#/proc/}: $c"
done
