"""The frame loop: named, timed stages (input .. present), pacing, start-up marks and the worker watchdog.

May import: demo.app.edit, demo.app.render, demo.app.photo, demo.input, demo.tools, demo.profile (no torch).
"""
