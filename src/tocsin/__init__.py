"""Tocsin: self-hosted incident management and on-call."""

__version__ = "0.1.0"
