"""Test peers shared by the test suite: fake providers and local receivers."""
