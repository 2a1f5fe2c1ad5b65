"""What the tests, the contract harness and the benchmarks share: servers, ports, rows, tokens, system programs."""
