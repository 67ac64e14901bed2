"""Tests of the benchmark helpers under bench/."""
