"""Image-quality measures that need no pretrained network (numpy/OpenCV only): the sliced Wasserstein
distance on Laplacian pyramids (``swd``). Benchmarks and trainers read them; they import nothing of the app.
"""
