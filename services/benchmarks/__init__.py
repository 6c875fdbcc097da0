"""Benchmarks that measure the running system as a whole (`whistle bench pipeline`, …)."""
