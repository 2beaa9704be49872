"""Exhibition operations: what an operator watches and what a visitor takes home.

- ``metrics.py``: a station's Prometheus metrics, fed by a frame listener (the app wires it in
  ``demo/app/kiosk/operations.py``); ``settings.py``: the config file's ``[metrics]`` and ``[gallery]`` tables.
- ``animation.py``: a save's edit as an animated WebP, off the UI thread; ``qr.py``: the take-home QR code.
- ``gallery_index.py`` (the saved pictures of one or more folders, checked before they are served),
  ``gallery_server.py`` and ``gallery_page.py``: the read-only web gallery (``python -m demo gallery``).
- Measuring scripts: ``gallery_load.py`` (the gallery under load), ``browser_check.py`` (the gallery in
  headless Chromium), ``bench_metrics.py`` (``bench ui`` with and without metrics), and
  ``sample_saves.py`` (save folders for them, from procedural landscapes); ``report.py`` prints and writes
  their JSON reports.

May import: numpy, OpenCV, Pillow, prometheus_client, aiohttp, segno, demo.safe_files, demo.errors,
demo.profile.stats, demo.data and the app's saver (``demo.app.edit.saving``); never torch, pygame or GL, except
``bench_metrics.py``, which runs the app to measure it.
"""
