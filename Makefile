# Thin wrappers: dev.sh does the work (and installs what it needs).
.PHONY: demo test bench dist docs mutation
demo:
	bash dev.sh demo
test:
	bash dev.sh test
bench:
	bash dev.sh bench
dist:
	bash dev.sh dist
docs:
	bash dev.sh docs
mutation:
	bash dev.sh mutation
