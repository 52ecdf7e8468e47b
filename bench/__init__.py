"""Benchmarks (`make bench`): the gateway's cost per minute of video against floors and a peer."""
