"""The process pool of every batch (perfxl.parallel.ordered_map): results in input order
whatever the number of workers, and a worker that dies on one file (killed for memory, a
crash in a native library) costs that file alone."""

from __future__ import annotations

import os
from concurrent.futures.process import BrokenProcessPool

import pytest

from perfxl.parallel import ordered_map


def _square(i: int) -> int:
    return i * i


def _dies_on_three(i: int) -> int:
    if i == 3:
        os._exit(1)  # the worker process goes away, as when the system kills it
    return i * i


@pytest.mark.parametrize(("jobs", "chunk"), [(1, None), (2, None), (2, 1), (2, 3)])
def test_results_come_in_input_order(jobs, chunk):
    assert list(ordered_map(_square, range(40), jobs, chunk=chunk, total=40)) == [
        i * i for i in range(40)
    ]


@pytest.mark.parametrize("chunk", [1, 2, 4])
def test_a_dying_worker_costs_its_file_alone(chunk):
    got = list(
        ordered_map(_dies_on_three, range(10), 2, chunk=chunk, total=10, on_crash=lambda i: -i)
    )
    assert got == [0, 1, 4, -3, 16, 25, 36, 49, 64, 81]


def test_without_a_crash_result_the_batch_says_so():
    with pytest.raises(BrokenProcessPool):
        list(ordered_map(_dies_on_three, range(6), 2, chunk=1, total=6))
