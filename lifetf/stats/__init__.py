"""Statistics for the claims: named wrappers over scipy.stats (intervals and tests) and the
designs that give each decision rule its trials and its chance of failing when a claim holds."""

from lifetf.stats.designs import *  # noqa: F403
from lifetf.stats.testing import *  # noqa: F403
