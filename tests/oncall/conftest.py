"""Hypothesis profiles for the on-call tests.

`ci` bounds the number of examples and drops the per-example deadline, which
shared CI runners miss for reasons that have nothing to do with the code.
It is loaded when the environment says CI=true.
"""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None)

if os.environ.get("CI") == "true":
    settings.load_profile("ci")
