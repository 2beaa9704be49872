"""Training data: procedural landscapes (numpy + OpenCV, no torch)."""
