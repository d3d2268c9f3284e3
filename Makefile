# livestore: the Postgres extension (PGXS, this file) and the gateway
# (gateway/Makefile). `make test` runs every test the project has.
EXTENSION      = livestore
MODULE_big     = livestore
OBJS           = $(patsubst %.cpp,%.o,$(sort $(wildcard extension/src/*.cpp extension/src/*/*.cpp)))
DATA           = $(wildcard extension/sql/livestore--*.sql)
PG_CONFIG     ?= pg_config
WERROR        ?= -Werror
PG_CPPFLAGS    = -Iextension/include -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS    = -std=c++17 -Wall -Wextra $(WERROR) -MMD -MP
SHLIB_LINK    += -lstdc++
# pg_regress and isolation runs happen as the postgres user (initdb refuses
# root), so their output goes to a folder that user owns, not the work tree.
TEST_OUT      ?= $(CURDIR)/build/test
REGRESS        = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS   = --inputdir=$(CURDIR) --outputdir=$(TEST_OUT)/regress \
                 --temp-instance=$(TEST_OUT)/regress/tmp_check --temp-config=$(CURDIR)/test/regress.conf \
                 --load-extension=livestore --no-locale --encoding=UTF8
ISOLATION      = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(CURDIR) --outputdir=$(TEST_OUT)/isolation \
                 --temp-instance=$(TEST_OUT)/isolation/tmp_check --temp-config=$(CURDIR)/test/regress.conf \
                 --load-extension=livestore --no-locale --encoding=UTF8
EXTRA_CLEAN    = $(OBJS:.o=.d) build
override with_llvm = no
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
-include $(OBJS:.o=.d)

.PHONY: deps gateway install-gateway test test-extension run bench soak test-scale
# WITH_GATEWAY=no builds and installs the extension only (as Debian's
# pg_buildext does for postgresql-NN-livestore).
WITH_GATEWAY  ?= $(if $(wildcard gateway/Makefile),yes,no)
ifeq ($(WITH_GATEWAY),yes)
all: gateway
install: install-gateway
endif

# Debian packages the build and tests need (installed only when missing).
deps:
	@sh test/install-deps.sh

gateway:
	$(MAKE) -C gateway

install-gateway:
	$(MAKE) -C gateway install

test:
	@bash test/run-all.sh

run:
	@bash test/run-embedded.sh

bench:
	@bash bench/run.sh

# Not in CI: SOAK_MINUTES (default 10) of mixed load, RSS over time, exact audit.
soak:
	@bash test/soak/run.sh

# Not in `make test` (about 6 minutes): several gateways behind HAProxy,
# pgbouncer, Patroni failover, HTTP caches; real engines, real clients.
test-scale: gateway
	@sh test/scale/install-deps.sh
	@rm -f build/scale-figures.txt
	node --test --test-concurrency=1 test/scale/
	@echo "== figures measured (build/scale-figures.txt) =="; cat build/scale-figures.txt 2>/dev/null || true

.PHONY: clean-run
clean-run:
	rm -rf .run

.PHONY: demo
demo:
	@bash test/run-demo.sh

# Sanitizer lanes: the gateway and its unit and HTTP tests under ASan+UBSan,
# and the long-poll machinery under TSan.
.PHONY: test-asan test-tsan fuzz
test-asan:
	@bash test/sanitizers.sh asan
test-tsan:
	@bash test/sanitizers.sh tsan
fuzz:
	$(MAKE) -C gateway fuzz

# Packages and images (README "Install"; deploy/README.md). All need root.
# make deb             Debian packages into build/deb/ (debhelper, pg_buildext), then lintian
# make image           the gateway's container image (buildah), from a debian:bookworm-slim
#                      that build-base.sh makes with debootstrap when no registry has one
# make dist            the PGXN release zip, build/dist/livestore-VERSION.zip (META.json)
# make test-packages   the debs in a clean Debian 12 root and the image with a real client
#                      (not in `make test`: about 10 minutes)
LIVESTORE_VERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" livestore.control)
IMAGE         ?= localhost/livestore-gateway
.PHONY: deb image base-image dist test-packages
deb:
	@sh deploy/deb/build.sh build/deb

base-image:
	@sh deploy/container/build-base.sh build/base

image: base-image
	@sh deploy/container/build-image.sh $(IMAGE) $(LIVESTORE_VERSION) build/image

dist:
	@sh deploy/pgxn/dist.sh build/dist

test-packages:
	@bash test/packages/run.sh
