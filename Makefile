# Ward's everyday commands. `make run` and `make test` are all a newcomer
# needs; the rest are for working on Ward itself.

GO      ?= go
FUNCS   := graphql tenants users orgs groups admin audit account sessions authn mfa pages issuers appstate oauth clients

.PHONY: run test unit bench load oauth-compare lint build lambda sam-validate clean

## run: the whole platform in one process on the embedded store and cache
run:
	$(GO) run ./functions/local

## test: every test, with real Cassandra and Redis installed and started
test:
	./.ci/test.sh

## unit: the tests that need no external server
unit:
	$(GO) test -race ./...

## bench: Go benchmarks of every package (integration ones need `make test`'s servers)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## load: the GraphQL load script against a fresh local process (docs/performance.md)
load:
	./e2e/load/run.sh

## oauth-compare: Ward and Ory Hydra v2.3.0 on client_credentials and introspection (docs/performance.md)
oauth-compare:
	./e2e/load/oauth.sh

## lint: formatting and vet, with and without the integration build tag
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...

## build: every function, the local process and the edge into bin/
build:
	mkdir -p bin
	$(GO) build -trimpath -o bin/ ./functions/... ./edge

## lambda: one bootstrap zip per function for AWS Lambda (linux/arm64)
lambda:
	./infra/lambda/build.sh $(FUNCS)

## sam-validate: lint the SAM template with cfn-lint
sam-validate:
	./infra/sam/validate.sh

clean:
	rm -rf bin dist .aws-sam
