"""Benchmarks (``python -m demo bench NAME``) and the soak harness (``soak_visitor``, ``soak_monitor``).

Speed targets are measured here, never in tests. Benches drive the real parts (engine, app, transfer)
and read the profiler's records and the parts' own figures; they write JSON and pictures.
"""
