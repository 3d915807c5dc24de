"""learntrace's benchmark harness: `make bench` runs every benchmark and prints each
figure next to a baseline measured in the same run on the same machine."""
