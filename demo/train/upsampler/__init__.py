"""The x4 display upsampler: its training inputs (data), training (train), measuring and export (report);
``python -m demo.train.upsampler`` is the command line (__main__).

May import: demo.engine, demo.data, demo.train.common.
"""
