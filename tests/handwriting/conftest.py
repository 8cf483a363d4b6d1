"""Core tests run torch on one thread: faster on a shared 2-core CPU, and bit-reproducible."""

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
