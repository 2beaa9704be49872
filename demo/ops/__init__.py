"""Exhibition operations: what an operator watches and what a visitor takes home.

``metrics.py`` (Prometheus metrics of one station, fed by a frame listener), ``animation.py`` (a save's
edit as an animated WebP, off the UI thread), ``qr.py`` (a QR code as rectangles to paint),
``gallery_index.py`` (the saved pictures of one or more folders, checked before they are served),
``gallery_server.py`` and ``gallery_page.py`` (the read-only web gallery: ``python -m demo gallery``),
``gallery_load.py`` (its load test) and ``scrape.py`` (reading a metrics endpoint, for the soak).

May import: numpy, OpenCV, Pillow, prometheus_client, aiohttp, segno, demo.safe_files, demo.errors;
never torch, pygame or GL (the app wires these parts in ``demo/app/kiosk/operations.py``).
"""
