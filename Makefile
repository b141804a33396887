# pgpipe: build, test, install, bench, demo.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CARGO ?= cargo

TOOLS := $(patsubst src/bin/%.rs,%,$(wildcard src/bin/pgpipe-*.rs))
MAN1 := $(wildcard man/*.1)
MAN7 := $(wildcard man/*.7)

.PHONY: all deps test-deps install uninstall test bench demo clean fuzz-build

all: deps
	$(CARGO) build --release --locked

deps:
	@scripts/deps build

test-deps:
	@scripts/deps test

install: all
	install -d $(DESTDIR)$(BINDIR)
	for t in $(TOOLS); do install -m 0755 target/release/$$t $(DESTDIR)$(BINDIR)/$$t; done
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for m in $(MAN1); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	for m in $(MAN7); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man7/; done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$$(basename $$m); done

# Every test: format, lints, unit, property and integration tests against real
# PostgreSQL 15 and 18 servers that the tests start themselves. Everything
# uses the release profile, so pg_query's C parser is compiled once.
test: test-deps
	$(CARGO) fmt --check
	$(CARGO) build --release --locked
	$(CARGO) clippy --release --locked --all-targets -- -D warnings
	$(CARGO) test --locked --release -- --test-threads=2

bench: all
	bench/run

demo: all test-deps
	scripts/demo

clean:
	$(CARGO) clean
