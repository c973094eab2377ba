"""The local stack (embedded PostgreSQL, Temporal dev server) for `make dev`, tests and
benchmarks."""
