"""Loads lifetf's pytest plugin (lifetf.suite.plugin): options, fixtures, trial sets, report."""

pytest_plugins = ("lifetf.suite.plugin",)
