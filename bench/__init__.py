"""Guichet's benchmarks against the running local stack (``make up``).

Run them with ``make bench`` or ``.venv/bin/python -m bench [name ...]``; each module
``bench/bench_<name>.py`` is one benchmark (see ``bench/__main__.py`` for the contract).
"""
