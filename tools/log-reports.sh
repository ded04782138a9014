#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel's reports found in guest logs, each whole: the line that
# matches PATTERN and what follows it up to the report's end (KASAN's
# "=====", a WARN's "---[ end trace"), 80 lines, or a line stamped more
# than 2 s after it (a one-line message is not followed by unrelated ones).
# A report seen in an earlier file (the console shows what the kernel log
# has) is printed once.
#
#   tools/log-reports.sh PATTERN FILE...
set -uo pipefail

pattern=${1:?usage: log-reports.sh PATTERN FILE...}
shift
cat "$@" 2>/dev/null | tr -d '\r' | awk -v pat="$pattern" '
	# the text without printk time stamp, to recognise a repeated report
	function bare(s) { sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s); return s }
	# the printk time stamp in seconds, -1 for none
	function stamp(s) {
		if (!match(s, /^\[ *[0-9]+\.[0-9]+\]/))
			return -1
		s = substr(s, 2, RLENGTH - 2)
		return s + 0
	}
	function end_block() {
		if (inblock && !(head in seen)) {
			seen[head] = 1
			printf "%s", block
		}
		inblock = 0
	}
	{
		if (inblock && start >= 0 && stamp($0) > start + 2)
			end_block()
		if (inblock) {
			block = block $0 "\n"
			if (++lines >= 80 || bare($0) ~ /^(=+|---\[ end .*)$/)
				end_block()
			next
		}
		if ($0 ~ pat) {
			inblock = 1
			lines = 1
			head = bare($0)
			start = stamp($0)
			block = $0 "\n"
		}
	}
	END { end_block() }'
