"""Everything drawn: the window and its GL context, the scene, the painter, the stroke overlay, damage
tracking, the layout and the views. The only place in the app that touches GL (ModernGL).

May import: demo.gl, demo.app.edit (state it draws), demo.tools; never torch.
"""
