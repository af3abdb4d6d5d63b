"""The video lesson (in progress, issue 28): a physics engine as an expert on clips of a bouncing ball.

Modules, from the data up: ``physics`` (the engine: exact flight between contacts, many balls at
once), ``clips`` (the data: states drawn from stated ranges, simulated and rendered at 8 frames of
16 x 16 pixels), ``tracking`` (one clear ball per frame, and where), ``fit`` (the engine's start
that best explains a tracked path, and its residual: how physical a clip is), ``expert`` (the
video expert: a flow network over whole clips), ``rewards`` (the engine and a designer's goal as
discriminative experts), ``judge`` (the physics judge), ``sampling`` (composed, alone, or
best-of-N), ``pictures`` (GIFs and frame strips) and ``command`` (``poe-demo video``).
"""
