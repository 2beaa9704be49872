"""Exhibition mode: the kiosk (idle reset, attract loop, visitor limits), its config file, the pure policy,
systemd notify, the take-home QR code (``take_home.py``) and the station's metrics wired to the app
(``operations.py``). The kiosk drives the app only through a small host interface (``KioskHost``).

May import: demo.app.edit, demo.input, demo.tools, demo.ops; never torch.
"""
