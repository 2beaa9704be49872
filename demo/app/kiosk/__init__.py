"""Exhibition mode: the kiosk (idle reset, attract loop, visitor limits), its config file, the pure policy,
and systemd notify. The kiosk drives the app only through a small host interface (``KioskHost``).

May import: demo.app.edit, demo.input, demo.tools; never torch.
"""
