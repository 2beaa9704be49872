"""The user's photo in the app: opened off the frame loop, projected by the engine, the edit carried onto
it by demo.transfer and shown through the GL renderer.

May import: demo.transfer, demo.gl, demo.app.edit; never torch.
"""
