#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Free memory in kB, inside the guest: the buddy allocator's (MemFree) and
# the pages waiting on the per-CPU lists, which MemFree leaves out (pages
# freed lately sit there).  The bench's memory figure counts with it.
pcp=$(awk '$1 == "count:" { s += $2 } END { print s * 4 }' /proc/zoneinfo)
awk -v pcp="$pcp" '/^MemFree:/ { print $2 + pcp }' /proc/meminfo
