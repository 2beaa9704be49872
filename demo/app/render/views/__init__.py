"""One small module per part of the window; each keeps its GL textures and draws with the Painter."""
