"""Tools and input: sessions, brushes and edit state. numpy/OpenCV only; no torch, no GL."""
