"""Reference implementations the benchmarks compare against; never deployed."""
