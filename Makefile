# The two commands a newcomer needs: `make run` and `make test`.
# Each installs what it needs first (Debian packages, build).

.PHONY: run test test-cluster deps bench soak leakcheck clean

deps:
	@scripts/install-deps.sh

run: deps
	@scripts/run.sh

# The tests also need the Python reference implementations they compare against.
test:
	@scripts/install-deps.sh --with-test-oracles
	@scripts/test.sh

# Many hosts on one machine (network namespaces, as root): PostgreSQL, an S3
# server, an API host and 3 worker hosts; 300 mixed jobs, one worker host killed midway.
test-cluster:
	@scripts/install-deps.sh --with-test-oracles
	@swift build
	@python3 scripts/cluster.py test

# Kiln in-process against the vips and ffmpeg command-line tools; the service over
# HTTP against thumbor and its targets; the soak. Same inputs, same run.
bench:
	@scripts/install-deps.sh --with-bench
	@scripts/bench.sh

# Every database-backed route driven hard against a release server; fails when
# its memory grows by more than 30 MB in a phase (1,000,000 reads, 10,000 jobs).
soak:
	@scripts/install-deps.sh --with-soak
	@scripts/soak.sh

# The binding tests under valgrind; fails on any definite leak.
leakcheck:
	@scripts/install-deps.sh --with-valgrind
	@scripts/leakcheck.sh

clean:
	rm -rf .build
