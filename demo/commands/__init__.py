"""One module per command of ``python -m demo``: each has ``HELP``, ``add_arguments(parser)`` and ``run(args)``.

Commands are thin: they parse, call the engine, the app, the benches or the trainers, and print. Heavy
imports (torch, pygame) happen inside ``run``, so that ``--help`` stays fast.
"""
