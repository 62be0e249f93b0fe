"""Composition schemes built on the kernel (see :mod:`wsgihub.contrib.cascade`)."""
