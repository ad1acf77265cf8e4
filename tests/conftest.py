"""Settings shared by every test folder."""

import os

from hypothesis import settings

# CI runs the property tests with a fixed seed so that a green run can be repeated; locally each
# run draws new examples. Set HYPOTHESIS_PROFILE=explore to search longer.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
