"""viewfinder: a desktop camera app that keeps the best moment of a burst."""

__version__ = "0.1.0"
