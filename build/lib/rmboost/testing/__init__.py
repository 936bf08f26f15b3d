"""Test helpers that tests and benchmarks import: the fault-injecting server (`fault_server`)."""
