"""The Arabic claim and figure tracker."""

__version__ = "0.1.0"
