# SPDX-License-Identifier: GPL-2.0
#
# The part of the kernel's tools/testing/selftests/lib.mk that a test
# directory's Makefile relies on, for a directory that lives outside the
# kernel tree: set TEST_GEN_PROGS (run by run_tests, in order),
# TEST_GEN_PROGS_EXTENDED (built, not run: helpers) and TEST_GEN_FILES,
# then include this.  It gives
#
#   all         every program and file, in $(OUTPUT) (O=DIR; default here)
#   run_tests   all, then runner.sh runs TEST_GEN_PROGS: each with the
#               timeout of the settings file, its TAP nested under one
#               KTAP result per program, and a totals line
#   clean       removes what all built
#
# The kernel's lib.mk also brings its compiler choice (LLVM=,
# CROSS_COMPILE=), install and emit_tests; the Makefile here picks the
# compiler by TARGET=, and nothing installs the suite yet.

OUTPUT	:= $(abspath $(O))
selfdir	:= $(dir $(abspath $(lastword $(MAKEFILE_LIST))))

TEST_GEN_PROGS		:= $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))
TEST_GEN_PROGS_EXTENDED	:= $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS_EXTENDED))
TEST_GEN_FILES		:= $(addprefix $(OUTPUT)/,$(TEST_GEN_FILES))

all: $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED) $(TEST_GEN_FILES)

# TESTS= (fnmatch patterns over "prog" and "prog.test") reaches the
# runner, and through it the programs, from the environment
export TESTS

run_tests: all
	@$(selfdir)runner.sh $(TEST_GEN_PROGS)

clean:
	rm -f $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED) $(TEST_GEN_FILES)

.PHONY: all run_tests clean
