"""The edit around the engine: the controller (requests and results), the UI state and its one reducer,
what actions do beyond it (effects), the morph, replay and live feed of sessions, saves and autosaves.

No GL: may import demo.tools, demo.input, demo.engine.api (plain data) and numpy/OpenCV; never torch.
"""
